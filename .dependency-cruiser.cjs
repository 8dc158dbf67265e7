/* global module */
/**
 * The layering of src/ (docs/architecture.md): kernel <- platform <- features <- app <- cli.
 * A module may import only from its own layer or the layers below it; nothing imports the CLI.
 * Run by `npm run lint` (and so by CI): `depcruise src --config .dependency-cruiser.cjs`.
 */
const layer = (name, above) => ({
  name: `${name}-imports-upward`,
  severity: 'error',
  comment: `src/${name} may not import from ${above.join(', ')} (kernel <- platform <- features <- app <- cli)`,
  from: { path: `^src/${name}/` },
  to: { path: `^src/(${above.join('|')})/` },
});

module.exports = {
  forbidden: [
    layer('kernel', ['platform', 'features', 'app', 'cli']),
    layer('platform', ['features', 'app', 'cli']),
    layer('features', ['app', 'cli']),
    layer('app', ['cli']),
    {
      name: 'outside-the-layers',
      severity: 'error',
      comment: 'every module of src/ lives in kernel, platform, features/<name>, app or cli',
      from: { path: '^src/' , pathNot: '^src/(kernel|platform|features/[^/]+|app|cli)/' },
      to: {},
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'a cycle between modules makes load order and ownership unclear',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
