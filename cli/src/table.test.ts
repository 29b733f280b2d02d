import { describe, expect, it } from 'vitest';
import { formatCsv, formatJson } from './output.js';
import { cellText, formatFooter, formatTable } from './table.js';
import { displayWidth, truncate } from './width.js';

const lines = (text: string) => text.split('\n').slice(0, -1);

describe('formatTable', () => {
  it('aligns text left and numbers right, by the column type', () => {
    const out = formatTable({
      columns: [
        { name: 'path', type: 'String' },
        { name: 'views', type: 'UInt64' },
        { name: 'rate', type: 'Nullable(Float64)' },
      ],
      rows: [
        ['/', '12', 0.5],
        ['/pricing', '8', 0.125],
      ],
    });
    expect(lines(out)).toEqual([
      'path     │ views │  rate',
      '─────────┼───────┼──────',
      '/        │    12 │   0.5',
      '/pricing │     8 │ 0.125',
    ]);
  });

  it('reads the alignment from the values when there is no type', () => {
    const out = formatTable({
      columns: [
        { name: 'n', type: '' },
        { name: 'code', type: '' },
      ],
      rows: [
        ['5', 'a1'],
        [null, '7'],
        ['100', 'b'],
      ],
    });
    expect(lines(out)).toEqual(['   n │ code', '─────┼─────', '   5 │ a1', 'NULL │ 7', ' 100 │ b']);
  });

  it('shows NULL, nested values as JSON and line breaks as escapes, one line per row', () => {
    const out = formatTable({
      columns: [
        { name: 'a', type: 'Nullable(String)' },
        { name: 'b', type: 'Array(String)' },
        { name: 'c', type: 'String' },
      ],
      rows: [[null, ['x', 'y'], 'one\ntwo\tthree']],
    });
    expect(lines(out)).toEqual([
      'a    │ b         │ c',
      '─────┼───────────┼────────────────',
      'NULL │ ["x","y"] │ one\\ntwo\\tthree',
    ]);
  });

  it('measures wide CJK characters and emoji as two columns, accents as none', () => {
    const out = formatTable({
      columns: [
        { name: 'title', type: 'String' },
        { name: 'n', type: 'UInt8' },
      ],
      rows: [
        ['日本語', 1],
        ['café', 2],
        ['🎉 ok', 3],
        ['ab', 4],
      ],
    });
    expect(lines(out)).toEqual([
      'title  │ n',
      '───────┼──',
      '日本語 │ 1',
      'café   │ 2',
      '🎉 ok  │ 3',
      'ab     │ 4',
    ]);
  });

  it('cuts cells wider than the limit with an ellipsis and sizes the column to the cut', () => {
    const out = formatTable(
      {
        columns: [{ name: 'url', type: 'String' }],
        rows: [['https://shop.example/a/very/long/path'], ['short']],
      },
      { maxCellWidth: 12 },
    );
    expect(lines(out)).toEqual(['url', '────────────', 'https://sho…', 'short']);
  });

  it('prints the header and rule for an empty result', () => {
    expect(formatTable({ columns: [{ name: 'x', type: 'UInt64' }], rows: [] })).toBe('x\n─\n');
  });
});

describe('display width', () => {
  it('counts grapheme clusters in terminal columns', () => {
    expect(displayWidth('abc')).toBe(3);
    expect(displayWidth('中文')).toBe(4);
    expect(displayWidth('한국어')).toBe(6);
    expect(displayWidth('ｆｕｌｌ')).toBe(8);
    expect(displayWidth('e\u0301')).toBe(1);
    expect(displayWidth('👩‍💻')).toBe(2);
    expect(displayWidth('❤️')).toBe(2);
    expect(displayWidth('')).toBe(0);
  });

  it('never splits a wide character or a cluster when cutting', () => {
    expect(truncate('日本語テキスト', 6)).toBe('日本…');
    expect(displayWidth(truncate('日本語テキスト', 6))).toBeLessThanOrEqual(6);
    expect(truncate('👩‍💻👩‍💻👩‍💻', 5)).toBe('👩‍💻👩‍💻…');
    expect(truncate('short', 5)).toBe('short');
  });
});

describe('other formats', () => {
  const table = {
    columns: [
      { name: 'name', type: 'String' },
      { name: 'n', type: 'Nullable(UInt64)' },
    ],
    rows: [
      ['plain', '18446744073709551615'],
      ['with, "quotes"\nand a line', null],
    ],
  };

  it('writes RFC 4180 CSV with NULL as an empty field', () => {
    expect(formatCsv(table)).toBe(
      'name,n\r\nplain,18446744073709551615\r\n"with, ""quotes""\nand a line",\r\n',
    );
  });

  it('writes JSON objects keyed by column, 64-bit integers left as strings', () => {
    expect(JSON.parse(formatJson(table))).toEqual([
      { name: 'plain', n: '18446744073709551615' },
      { name: 'with, "quotes"\nand a line', n: null },
    ]);
  });

  it('says how many rows and how long, in ms or s', () => {
    expect(formatFooter(1, 2.345)).toBe('1 row in 2.3 ms\n');
    expect(formatFooter(3, 1520)).toBe('3 rows in 1.52 s\n');
    expect(cellText(true)).toBe('true');
  });
});
