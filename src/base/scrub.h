/*
 * Server paths out of text shown to clients (issue 17): a folder's absolute path is nothing a user
 * can act on and tells a stranger how the server is laid out.
 */
#ifndef VC_BASE_SCRUB_H
#define VC_BASE_SCRUB_H

/* In place (the text only shrinks): when root is not NULL or "", every occurrence of it, spaces
 * included, first: "<root>/" cut ("<root>/uploads/x" → "uploads/x"), "<root>" alone (before a
 * space, '.', ',', ')', the end…) → "the data folder" (or cut, for a root shorter than that);
 * "<root>2" or "<root>.old" are other folders. Then every other absolute file path cut to its last
 * component ("/tmp/a/b.wav" → "b.wav"); that rule guesses where a path ends and stops at a space. A path starts at the text's start or after a space, quote, '(' or '='; "/api/…"
 * endpoints, a URL's "//host/…" and a lone "/x" stay. */
void vc_scrub_paths(char *msg, const char *root);

#endif
