/**
 * Paging for the StudyService's list calls. Page tokens are opaque to
 * clients; inside they are an offset.
 */

/** An offset as a page token, base64url-encoded. */
export function encodePageToken(offset: number): string {
  return Buffer.from(`o:${offset}`).toString('base64url');
}

/** The offset a page token stands for; undefined when the token is not one of ours. */
export function decodePageToken(token: string): number | undefined {
  if (token === '') return 0;
  const m = /^o:(\d{1,9})$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  return m === null ? undefined : Number(m[1]);
}

/**
 * The page at `offset` of the lists read one after another (a sweep's
 * studies' trials), without joining them: a call costs its page and the
 * number of lists, not the whole sweep. `next` is the following page's
 * offset, or undefined after the last item.
 */
export function pageOf<T>(lists: ReadonlyArray<readonly T[]>, offset: number, size: number): { items: T[]; next: number | undefined } {
  const items: T[] = [];
  let skip = offset;
  let total = 0;
  for (const list of lists) {
    total += list.length;
    if (items.length < size && skip < list.length) items.push(...list.slice(skip, skip + size - items.length));
    skip = Math.max(0, skip - list.length);
  }
  return { items, next: offset + size < total ? offset + size : undefined };
}
