import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { ROOT } from '../support/process.js';
import { PYTHON, pythonSkip } from './python-env.js';

describe('the Python kit and the FastAPI example (pytest)', () => {
  for (const dir of ['python/tests', 'examples/orders-fastapi/tests']) {
    it(`pytest ${dir}`, { skip: pythonSkip }, async () => {
      const child = spawn(PYTHON, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', dir], {
        cwd: ROOT,
        env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const code = await new Promise((resolve) => child.on('exit', resolve));
      assert.equal(code, 0, out.slice(-4000));
      assert.match(out, /\d+ passed/);
    });
  }
});
