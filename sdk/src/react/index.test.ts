import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { expect, it, vi } from 'vitest';
import { TidemarkProvider, useTidemark } from './index.js';

// Server rendering (this file runs in Node, where `window` does not exist): the provider must render its tree,
// give components a client they can call, and neither store nor send anything.

let seen: ReturnType<typeof useTidemark> | undefined;

function BuyButton() {
  seen = useTidemark();
  seen.track('Rendered on the server');
  return createElement('button', { type: 'button' }, 'Buy');
}

function Orphan() {
  useTidemark();
  return null;
}

it('renders on the server with a client that does nothing', async () => {
  const fetch = vi.fn();
  const html = renderToString(
    createElement(TidemarkProvider, { writeKey: 'wk', fetch }, createElement(BuyButton)),
  );
  expect(html).toBe('<button type="button">Buy</button>');
  await seen?.flush();
  expect(fetch).not.toHaveBeenCalled();
});

it('says clearly when useTidemark() is used outside a provider', () => {
  expect(() => renderToString(createElement(Orphan))).toThrow('inside a <TidemarkProvider>');
});
