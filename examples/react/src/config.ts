/** Where events go: the served page's meta tags win; `vite dev` uses its environment. */
function fromMeta(name: string): string | undefined {
  const value = document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content;
  return value && !value.startsWith('__') ? value : undefined;
}

export const tidemarkHost =
  fromMeta('tidemark-host') ?? import.meta.env.VITE_TIDEMARK_HOST ?? 'http://127.0.0.1:8787';
export const tidemarkWriteKey =
  fromMeta('tidemark-write-key') ?? import.meta.env.VITE_TIDEMARK_WRITE_KEY ?? 'demo-write-key';
