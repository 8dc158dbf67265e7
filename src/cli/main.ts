#!/usr/bin/env node
import './tick-shape.js';
import { releaseYoungGeneration } from './young-generation.js';
import { loadConfig } from '../app/config.js';
import { ConfigError } from '../kernel/config/load.js';
import { DataDirInUseError } from '../kernel/storage/database.js';
import { startServer } from '../app/server.js';
import { wardenVersion } from '../kernel/config/version.js';
import { DatabaseUnavailableError } from '../kernel/storage/database.js';
import { PortUnavailableError } from '../app/server.js';
import { commandHelp, parse, UsageError, type Command } from './command.js';
import { withWarden } from './context.js';
import { userCreate, userDelete, userDisable, userEnable, userImport, userList, userSetPassword, userSetRoles } from './user.js';
import { keysList, keysReencrypt, keysRotate } from './keys.js';
import { clientCreate, clientDelete, clientList, clientRotateSecret } from './client.js';
import { auditTail } from './audit.js';
import { apiCreate, apiDelete, apiList, apiScopeAdd, apiScopeRemove } from './api.js';
import { roleCreate, roleDelete, roleGrant, roleList, roleRevoke } from './role.js';
import { idpAdd, idpDelete, idpList } from './idp.js';

const serve: Command = {
  name: 'serve',
  summary: 'run the server (migrations first)',
  usage: 'serve',
  async run() {
    await startServer(loadConfig(), { handleSignals: true });
    releaseYoungGeneration();
    return -1;
  },
};

const migrate: Command = {
  name: 'migrate',
  summary: 'apply database migrations',
  usage: 'migrate',
  async run() {
    await withWarden(async () => {});
    console.log('migrations applied');
  },
};

export const commands: Command[] = [serve, migrate, userCreate, userList, userSetPassword, userSetRoles, userDisable, userEnable, userDelete, userImport, keysRotate, keysList, keysReencrypt, clientCreate, clientList, clientRotateSecret, clientDelete, auditTail,
  apiCreate, apiList, apiDelete, apiScopeAdd, apiScopeRemove, roleCreate, roleList, roleDelete, roleGrant, roleRevoke, idpAdd, idpList, idpDelete];

function help() {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'usage: warden <command> [options]',
    '',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'warden <command> --help shows its options; warden --version its version.',
  ].join('\n');
}

const findCommand = (argv: string[]) => commands.find((c) => c.name.split(' ').every((w, i) => argv[i] === w));

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--version' || argv[0] === '-v' || argv[0] === 'version') {
    console.log(wardenVersion());
    return 0;
  }
  if (argv[0] === 'help' && argv.length > 1 && findCommand(argv.slice(1))) {
    console.log(commandHelp(findCommand(argv.slice(1))!));
    return 0;
  }
  if (!argv.length || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    console.log(help());
    return argv.length ? 0 : 2;
  }
  const command = findCommand(argv);
  if (command && argv.slice(command.name.split(' ').length).some((a) => a === '--help' || a === '-h')) {
    console.log(commandHelp(command));
    return 0;
  }
  try {
    if (!command) throw new UsageError(`unknown command "${argv.slice(0, 2).join(' ')}"; try warden --help`);
    const args = parse(command, argv.slice(command.name.split(' ').length));
    const code = await command.run(args as never);
    return typeof code === 'number' ? code : 0;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`warden: ${e.message}`);
      return 2;
    }
    if (e instanceof ConfigError || e instanceof DataDirInUseError || e instanceof DatabaseUnavailableError || e instanceof PortUnavailableError) {
      console.error(`warden: ${e.message}`);
      return 1;
    }
    console.error(`warden: ${(e as Error).message?.split('\n')[0] ?? 'failed'}`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
// -1: a server is running; it exits on a signal.
if (code >= 0) process.exit(code);
