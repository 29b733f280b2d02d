import { fileURLToPath } from 'node:url';
import resolve from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import typescript from '@rollup/plugin-typescript';

// Declarations come from `tsc -p tsconfig.build.json` after this build (see the `build` script).
const ts = () =>
  typescript({
    tsconfig: './tsconfig.json',
    include: ['src/**/*.ts', 'src/**/*.tsx'],
    exclude: ['src/**/*.test.ts'],
    compilerOptions: { noEmit: false, declaration: false },
  });

// The script tag is one file per feature, IIFEs without dynamic `import()`: its entry adds the autocapture file
// itself (src/browser.ts), so the core's loader of the npm module is swapped for one that does nothing.
const scriptTagLoaders = () => ({
  name: 'script-tag-loaders',
  resolveId(source, importer) {
    if (source === './autocapture/loadInteractions.js' && importer)
      return fileURLToPath(new URL('./src/autocapture/loadInteractions.scriptTag.ts', import.meta.url));
    return null;
  },
});

export default [
  // The npm package: ES module and CommonJS. Dependencies stay imports, for the app's bundler to resolve
  // and dedupe; the React entry shares the client code with the main entry through a chunk.
  {
    input: { index: 'src/index.ts', react: 'src/react/index.tsx', vitals: 'src/vitals.ts' },
    external: ['idb-keyval', 'react', 'react/jsx-runtime', 'web-vitals'],
    plugins: [ts()],
    output: ['js', 'cjs'].map((extension) => ({
      dir: 'dist',
      format: extension === 'js' ? 'es' : 'cjs',
      entryFileNames: `[name].${extension}`,
      chunkFileNames: `chunks/[name].${extension}`,
      // Without this, each entry would also import idb-keyval just for its side effects (it has none).
      hoistTransitiveImports: false,
      // React Server Components: the provider holds state, so it must run on the client.
      banner: (chunk) => (chunk.name === 'react' ? "'use client';" : ''),
    })),
  },
  // The script tag: the core in one minified IIFE that sets `window.tidemark`. Every visitor pays for it, so what
  // is off by default (autocapture, Web Vitals) is in files of its own below.
  {
    input: 'src/browser.ts',
    plugins: [
      scriptTagLoaders(),
      resolve({ browser: true }),
      ts(),
      terser({
        ecma: 2020,
        // The client is a composition of small factories (sender.ts, transport.ts, flushScheduler.ts…), each
        // called once. On this bundle, inlining only functions without arguments (`inline: 1`) and writing object
        // methods in the short form (`unsafe_methods`, unsafe only for functions called with `new`: none here)
        // come out smaller. Four passes, measured: a fifth comes out 2 B gzip larger (`node bench/sdk-size.mjs`).
        compress: { passes: 4, inline: 1, unsafe_arrows: true, unsafe_methods: true },
        // The properties of the SDK's internal objects (queue, stores, visitor, chunks, sender, transport,
        // scheduler) get one-letter names too. Never the API, the wire format, option names, or fields of stored
        // records, which another version of the script reads back: this list names only what none of those use.
        mangle: {
          properties: {
            regex:
              /^(take|save|remove|markBeaconed|later|mine|mineCount|setMany|delMany|ids|jsons|bytes|read|write|session|anonymous|maxEvents|maxBytes|maxAge|send|schedule|beacon|post)$/,
            // Also names that DOM objects have too (`remove`, `write`, `send`…): the SDK uses none of these on them.
            builtins: true,
          },
        },
        format: { comments: false },
      }),
    ],
    output: { file: 'dist/tidemark.min.js', format: 'iife' },
  },
  // The Web Vitals chunk for the script tag: web-vitals bundled in, a separate file so that only pages that
  // ask for vitals download it, and the core's budget stays the core's.
  {
    input: 'src/vitals-browser.ts',
    plugins: [
      resolve({ browser: true }),
      ts(),
      terser({ ecma: 2020, compress: { passes: 3 }, format: { comments: false } }),
    ],
    output: { file: 'dist/tidemark.vitals.min.js', format: 'iife' },
  },
  // The autocapture chunk for the script tag (`$click`, `$hover`), added by the core when its tag has
  // `data-autocapture`.
  {
    input: 'src/autocapture-browser.ts',
    plugins: [
      resolve({ browser: true }),
      ts(),
      terser({ ecma: 2020, compress: { passes: 3 }, format: { comments: false } }),
    ],
    output: { file: 'dist/tidemark.autocapture.min.js', format: 'iife' },
  },
];
