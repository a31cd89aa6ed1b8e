import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePageToken, encodePageToken, pageOf } from '../../coordinator/service/paging.js';

test('pages across lists equal pages of the lists joined, at every offset and size', () => {
  const lists = [[0, 1, 2], [], [3], [4, 5, 6, 7, 8], [], [9, 10]];
  const joined = lists.flat();
  for (let size = 1; size <= 12; size++) {
    for (let offset = 0; offset <= joined.length + 2; offset++) {
      const { items, next } = pageOf(lists, offset, size);
      assert.deepEqual(items, joined.slice(offset, offset + size), `offset ${offset}, size ${size}`);
      assert.equal(next, offset + size < joined.length ? offset + size : undefined, `next after offset ${offset}, size ${size}`);
    }
  }
  assert.deepEqual(pageOf<number>([], 0, 5), { items: [], next: undefined });
});

test('following next from the start visits every item once, in order', () => {
  const lists = Array.from({ length: 8 }, (_, s) => Array.from({ length: 37 + s }, (_, i) => `${s}/${i}`));
  const seen: string[] = [];
  let offset: number | undefined = 0;
  while (offset !== undefined) {
    const { items, next }: { items: string[]; next: number | undefined } = pageOf(lists, offset, 100);
    seen.push(...items);
    offset = next;
  }
  assert.deepEqual(seen, lists.flat());
});

test('page tokens round-trip; a token not issued here is refused', () => {
  for (const offset of [0, 1, 100, 999_999_999]) assert.equal(decodePageToken(encodePageToken(offset)), offset);
  assert.equal(decodePageToken(''), 0);
  assert.equal(decodePageToken('garbage'), undefined);
  assert.equal(decodePageToken(Buffer.from('o:-1').toString('base64url')), undefined);
});
