/** HPACK against every example of RFC 7541 Appendix C, and the Huffman code both ways. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HUFFMAN_CODES, HUFFMAN_LENGTHS } from '../../src/protocols/http2/hpack-tables.js';
import { HpackDecoder, HpackError, decodeInteger } from '../../src/protocols/http2/hpack.js';
import { HuffmanError, huffmanDecode, huffmanEncode } from '../../src/protocols/http2/huffman.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

interface Step {
  block: string;
  headers: [string, string][];
  /** Dynamic table after the block, newest first, and its size. */
  table: [string, string][];
  size: number;
}

function decodeSeries(steps: Step[], initialTableSize = 4096) {
  const d = new HpackDecoder({ initialTableSize });
  for (const [i, step] of steps.entries()) {
    const out = d.decode(hex(step.block));
    assert.deepEqual(out.headers, step.headers, `block ${i + 1}`);
    assert.deepEqual(d.dynamicTable(), step.table, `table after block ${i + 1}`);
    assert.equal(d.dynamicTableSize, step.size, `table size after block ${i + 1}`);
  }
}

const REQ1: [string, string][] = [
  [':method', 'GET'],
  [':scheme', 'http'],
  [':path', '/'],
  [':authority', 'www.example.com'],
];
const REQ2: [string, string][] = [...REQ1, ['cache-control', 'no-cache']];
const REQ3: [string, string][] = [
  [':method', 'GET'],
  [':scheme', 'https'],
  [':path', '/index.html'],
  [':authority', 'www.example.com'],
  ['custom-key', 'custom-value'],
];
const requestTables = {
  t1: [[':authority', 'www.example.com']] as [string, string][],
  t2: [
    ['cache-control', 'no-cache'],
    [':authority', 'www.example.com'],
  ] as [string, string][],
  t3: [
    ['custom-key', 'custom-value'],
    ['cache-control', 'no-cache'],
    [':authority', 'www.example.com'],
  ] as [string, string][],
};

const DATE1 = 'Mon, 21 Oct 2013 20:13:21 GMT';
const DATE2 = 'Mon, 21 Oct 2013 20:13:22 GMT';
const LOC = 'https://www.example.com';
const COOKIE = 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1';
const RES1: [string, string][] = [
  [':status', '302'],
  ['cache-control', 'private'],
  ['date', DATE1],
  ['location', LOC],
];
const RES2: [string, string][] = [[':status', '307'], ...RES1.slice(1)];
const RES3: [string, string][] = [
  [':status', '200'],
  ['cache-control', 'private'],
  ['date', DATE2],
  ['location', LOC],
  ['content-encoding', 'gzip'],
  ['set-cookie', COOKIE],
];
const responseTables = {
  t1: [
    ['location', LOC],
    ['date', DATE1],
    ['cache-control', 'private'],
    [':status', '302'],
  ] as [string, string][],
  t2: [
    [':status', '307'],
    ['location', LOC],
    ['date', DATE1],
    ['cache-control', 'private'],
  ] as [string, string][],
  t3: [
    ['set-cookie', COOKIE],
    ['content-encoding', 'gzip'],
    ['date', DATE2],
  ] as [string, string][],
};

/** C.3 and C.4: the same three requests on one connection, without and with Huffman coding. */
function requestSeries(blocks: string[]) {
  const sizes = [57, 110, 164];
  const tables = [requestTables.t1, requestTables.t2, requestTables.t3];
  decodeSeries(
    blocks.map((block, i) => ({ block, headers: [REQ1, REQ2, REQ3][i], table: tables[i], size: sizes[i] })),
  );
}

/** C.5 and C.6: the same three responses with a 256-byte table, without and with Huffman coding. */
function responseSeries(blocks: string[]) {
  const sizes = [222, 222, 215];
  const tables = [responseTables.t1, responseTables.t2, responseTables.t3];
  decodeSeries(
    blocks.map((block, i) => ({ block, headers: [RES1, RES2, RES3][i], table: tables[i], size: sizes[i] })),
    256,
  );
}

describe('HPACK (RFC 7541 Appendix C)', () => {
  it('C.1 integers: 10 and 1337 with a 5-bit prefix, 42 at an octet boundary', () => {
    assert.equal(decodeInteger(hex('0a'), { p: 0 }, 5), 10);
    const r = { p: 0 };
    assert.equal(decodeInteger(hex('1f9a0a'), r, 5), 1337);
    assert.equal(r.p, 3);
    assert.equal(decodeInteger(hex('2a'), { p: 0 }, 8), 42);
  });

  it('C.2 single representations: indexed, incremental, without and never indexed', () => {
    const d1 = new HpackDecoder();
    const c21 = d1.decode(hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572'));
    assert.deepEqual(c21.headers, [['custom-key', 'custom-header']]);
    assert.deepEqual(d1.dynamicTable(), [['custom-key', 'custom-header']]);
    assert.equal(d1.dynamicTableSize, 55);

    const d2 = new HpackDecoder();
    assert.deepEqual(d2.decode(hex('040c 2f73 616d 706c 652f 7061 7468')).headers, [
      [':path', '/sample/path'],
    ]);
    assert.deepEqual(d2.dynamicTable(), []);

    const d3 = new HpackDecoder();
    const c23 = d3.decode(hex('1008 7061 7373 776f 7264 0673 6563 7265 74'));
    assert.deepEqual(c23.headers, [['password', 'secret']]);
    assert.deepEqual(c23.neverIndexed, [0]);
    assert.deepEqual(d3.dynamicTable(), []);

    const d4 = new HpackDecoder();
    assert.deepEqual(d4.decode(hex('82')).headers, [[':method', 'GET']]);
    assert.deepEqual(d4.dynamicTable(), []);
  });

  it('C.3 requests without Huffman coding, one connection', () => {
    requestSeries([
      '8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
      '8286 84be 5808 6e6f 2d63 6163 6865',
      '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65',
    ]);
  });

  it('C.4 requests with Huffman coding, one connection', () => {
    requestSeries([
      '8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff',
      '8286 84be 5886 a8eb 1064 9cbf',
      '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf',
    ]);
  });

  it('C.5 responses without Huffman coding, a 256-byte table with evictions', () => {
    responseSeries([
      `4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
            2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d`,
      '4803 3330 37c1 c0bf',
      `88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
            54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
            5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31`,
    ]);
  });

  it('C.6 responses with Huffman coding, a 256-byte table with evictions', () => {
    responseSeries([
      `4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
            2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3`,
      '4883 640e ffc1 c0bf',
      `88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
            77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
            9587 3160 65c0 03ed 4ee5 b106 3d50 07`,
    ]);
  });
});

describe('HPACK limits and errors', () => {
  it('drops fields past the header list size but keeps the table in step', () => {
    const d = new HpackDecoder({ maxHeaderListSize: 60 });
    // C.3's first two requests: the second needs the first's table entry.
    const first = d.decode(hex('8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d'));
    assert.equal(first.truncated, true);
    assert.deepEqual(first.headers, [[':method', 'GET']]);
    assert.deepEqual(d.dynamicTable(), [[':authority', 'www.example.com']]);
    const second = d.decode(hex('be'));
    assert.deepEqual(second.headers, [[':authority', 'www.example.com']]);
  });

  it('refuses a table size update past what was negotiated, and indexes past the table', () => {
    assert.throws(() => new HpackDecoder().decode(hex('3fe21f')), HpackError); // 4097
    assert.throws(() => new HpackDecoder().decode(hex('be')), /past the table/);
    const d = new HpackDecoder();
    d.setAllowedTableSize(8192);
    d.decode(hex('3fe13f')); // 8192 = 31 + 8161 (0xe1 0x3f)
    const small = new HpackDecoder({ hardMaxTableSize: 1000 });
    small.setAllowedTableSize(8192);
    assert.throws(() => small.decode(hex('3fca07')), /limit 1000/); // 1001
  });

  it('rejects a string that runs past the block', () => {
    assert.throws(() => new HpackDecoder().decode(hex('400a 6375')), /past the header block/);
  });
});

describe('Huffman code (RFC 7541 Appendix B)', () => {
  it('round-trips every octet, alone and in one string', () => {
    let all = '';
    for (let c = 0; c < 256; c++) {
      const s = String.fromCharCode(c);
      all += s;
      const enc = huffmanEncode(s);
      assert.equal(enc.length, Math.ceil(HUFFMAN_LENGTHS[c] / 8));
      assert.equal(huffmanDecode(enc, 0, enc.length), s, `octet ${c}`);
    }
    const enc = huffmanEncode(all + all);
    assert.equal(huffmanDecode(enc, 0, enc.length), all + all);
  });

  it('matches the RFC encoding of "www.example.com"', () => {
    assert.deepEqual(huffmanEncode('www.example.com'), hex('f1e3 c2e5 f23a 6ba0 ab90 f4ff'));
    // The code table's first entries, as printed in Appendix B.
    assert.equal(HUFFMAN_CODES[48], 0x0);
    assert.equal(HUFFMAN_LENGTHS[48], 5);
  });

  it('rejects padding longer than 7 bits or not made of ones, and EOS inside', () => {
    for (const bad of ['ff', '1fff', '1fffff', 'ff9fffffff', '52bc30ffffffff', '00']) {
      assert.throws(() => huffmanDecode(hex(bad), 0, hex(bad).length), HuffmanError, bad);
    }
  });
});
