import { describe, expect, it } from 'vitest';
import { hostOf, splitUrl } from './url.js';

describe('splitUrl', () => {
  it('keeps a port other than the scheme’s default in the host, so two servers of one machine are two hosts', () => {
    expect(splitUrl('http://127.0.0.1:3000/a?x=1')).toEqual({
      host: '127.0.0.1:3000',
      path: '/a',
      query: 'x=1',
    });
    expect(splitUrl('http://127.0.0.1:4000/a').host).toBe('127.0.0.1:4000');
    expect(splitUrl('https://Shop.Example:8443/').host).toBe('shop.example:8443');
    expect(splitUrl('http://[::1]:5173/').host).toBe('[::1]:5173');
  });

  it('drops the default port: http on 80 and https on 443 are the host alone', () => {
    expect(splitUrl('http://127.0.0.1:80/').host).toBe('127.0.0.1');
    expect(splitUrl('https://WWW.Shop.example:443/pricing').host).toBe('www.shop.example');
    expect(splitUrl('https://shop.example/pricing').host).toBe('shop.example');
    // Not the default of its own scheme: a site on https's port over http is a host of its own.
    expect(splitUrl('http://shop.example:443/').host).toBe('shop.example:443');
  });

  it('leaves every part empty for what is not a web URL', () => {
    for (const url of ['', 'not a url', 'ftp://files.example/x', 'file:///etc/passwd']) {
      expect(splitUrl(url), url).toEqual({ host: '', path: '', query: '' });
    }
  });
});

it('hostOf: a referrer’s host as splitUrl has it, its port kept unless it is the default', () => {
  expect(hostOf('http://localhost:5173/docs')).toBe('localhost:5173');
  expect(hostOf('https://news.example.org:443/issue/12')).toBe('news.example.org');
  expect(hostOf('')).toBe('');
});
