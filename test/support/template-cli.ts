import { dropTemplate, prepareTemplate } from './template.js';

const [work, flag] = process.argv.slice(2);
if (flag === '--drop') {
  await dropTemplate();
} else {
  process.stdout.write(JSON.stringify(await prepareTemplate(work!)));
}
process.exit(0);
