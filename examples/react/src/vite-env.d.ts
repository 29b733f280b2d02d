/// <reference types="vite/client" />

interface ImportMetaEnv {
  readonly VITE_TIDEMARK_HOST?: string;
  readonly VITE_TIDEMARK_WRITE_KEY?: string;
}
