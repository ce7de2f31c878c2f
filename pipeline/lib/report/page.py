"""The HTML page's layout, made from the report's Markdown as markdown-it parsed it (its tokens).

The Markdown says what GitHub shows; these rules give the page the parts that Markdown has no
words for, from the way the template writes them:

- a paragraph that is only a picture is a <figure>, its picture embedded (a data: URI, with its
  size), and an emphasized paragraph right after it is its <figcaption>;
- an emphasized paragraph right after a table is the table's <caption>, and a last row that is
  all bold is the table's totals (<tfoot>); right-aligned columns get class "r";
- any other paragraph that is all emphasized is a note (class "note");
- headings get GitHub's ids.

Page breaks in print are report.css's: a heading stays with what follows it, a figure and a short
table are never split, and no part is forced onto a new page (that would leave the end of the page
before it blank).
"""

from __future__ import annotations

import re

from markdown_it.token import Token

Block = list[Token]


def lay_out(tokens: list[Token], pictures: dict[str, tuple[str, int, int]]) -> list[Token]:
    """``tokens`` of the whole page, laid out; ``pictures``: link → (data: URI, width, height)."""
    blocks, out, i = _blocks(tokens), [], 0
    while i < len(blocks):
        block, i = blocks[i], i + 1
        kind = "figure" if _picture(block) else "table" if block[0].type == "table_open" else None
        caption = None
        if kind and i < len(blocks) and _is_wrapped(blocks[i], "em"):
            caption, i = blocks[i][1], i + 1
        if kind == "figure":
            out.append(_figure(block[1], caption, pictures))
        elif kind == "table":
            out.append(_table(block, caption))
        else:
            out.append(_note(block) if _is_wrapped(block, "em") else block)
    return _with_ids([token for block in out for token in block])


def _blocks(tokens: list[Token]) -> list[Block]:
    """The top-level blocks (heading, paragraph, table), each as its list of tokens."""
    blocks, depth = [], 0
    for token in tokens:
        if depth == 0:
            blocks.append([])
        blocks[-1].append(token)
        depth += token.nesting
    return blocks


def _is_wrapped(block: Block, kind: str) -> bool:
    """Whether ``block`` is a paragraph that is one span of ``kind`` (em, strong) from end to end."""
    return block[0].type == "paragraph_open" and _wrapped(block[1].children or [], kind)


def _wrapped(children: list[Token], kind: str) -> bool:
    depth = 0
    for i, child in enumerate(children):
        depth += {f"{kind}_open": 1, f"{kind}_close": -1}.get(child.type, 0)
        if depth == 0 and (i < len(children) - 1 or child.type != f"{kind}_close"):
            return False
    return bool(children)


def _unwrapped(inline: Token) -> Token:
    """An inline token without the span around all of it."""
    inline.children = inline.children[1:-1]
    return inline


def _picture(block: Block) -> Token | None:
    if block[0].type == "paragraph_open" and [c.type for c in block[1].children or []] == ["image"]:
        return block[1].children[0]
    return None


def _figure(inline: Token, caption: Token | None, pictures: dict[str, tuple[str, int, int]]) -> Block:
    image = inline.children[0]
    uri, width, height = pictures[image.attrs["src"]]
    image.attrs.update(src=uri, width=str(width), height=str(height))
    tokens = [Token("figure_open", "figure", 1, block=True), inline]
    if caption is not None:
        tokens += [Token("figcaption_open", "figcaption", 1, block=True), _unwrapped(caption),
                   Token("figcaption_close", "figcaption", -1, block=True)]
    return tokens + [Token("figure_close", "figure", -1, block=True)]


def _table(block: Block, caption: Token | None) -> Block:
    for token in block:
        if token.attrs.get("style") == "text-align:right":
            token.attrs = {"class": "r"}
    rows = [i for i, token in enumerate(block) if token.type == "tr_open"]
    last = block[rows[-1]:-2]  # tr_open … tr_close, before tbody_close, table_close
    cells = [token for token in last if token.type == "inline"]
    if len(rows) > 2 and any(c.children for c in cells) and all(
            _wrapped(c.children, "strong") for c in cells if c.children):
        for cell in cells:
            if cell.children:
                _unwrapped(cell)
        block = (block[:rows[-1]] + [block[-2], Token("tfoot_open", "tfoot", 1, block=True)] + last
                 + [Token("tfoot_close", "tfoot", -1, block=True), block[-1]])
    if caption is not None:
        block = [block[0], Token("caption_open", "caption", 1, block=True), _unwrapped(caption),
                 Token("caption_close", "caption", -1, block=True), *block[1:]]
    return block


def _note(block: Block) -> Block:
    block[0].attrs["class"] = "note"
    _unwrapped(block[1])
    return block


def _with_ids(tokens: list[Token]) -> list[Token]:
    """``tokens`` with each heading given its GitHub id."""
    ids: set[str] = set()
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            token.attrs["id"] = _slug(tokens[i + 1], ids)
    return tokens


def _slug(inline: Token, taken: set[str]) -> str:
    """GitHub's id for a heading: its text in lower case, punctuation dropped, spaces as hyphens."""
    text = "".join(child.content for child in inline.children or [])
    slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
    unique, n = slug, 0
    while unique in taken:
        n += 1
        unique = f"{slug}-{n}"
    taken.add(unique)
    return unique
