import { TidemarkProvider } from '@tidemark/sdk/react';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { tidemarkHost, tidemarkWriteKey } from './config.js';

const root = document.getElementById('root');
if (!root) throw new Error('index.html lost its #root element');

createRoot(root).render(
  <StrictMode>
    <TidemarkProvider writeKey={tidemarkWriteKey} host={tidemarkHost} flushInterval={1000}>
      <App />
    </TidemarkProvider>
  </StrictMode>,
);
