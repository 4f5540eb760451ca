"""Text out of the PDFs fpdf2 writes, for tests (no pypdf or poppler on this machine).

fpdf2 writes embedded TrueType fonts as Type0/Identity-H fonts: each shown string is a
sequence of 2-byte glyph ids in hex, and each font carries a ToUnicode CMap (bfchar and
bfrange entries) that maps them back to text, the same map every PDF reader's copy and
search uses. This reads exactly that: the objects, their Flate streams, each page's font
resources and their CMaps, and the Tj/TJ operators of the content streams. It is not a
general PDF parser (no object streams, no encryption, no simple fonts), which fpdf2's
output does not need; a font without a ToUnicode map fails loudly.
"""

from __future__ import annotations

import re
import zlib

_OBJECT = re.compile(rb"(\d+) 0 obj(.*?)endobj", re.S)
_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
_REF = r"(\d+) 0 R"


def _objects(pdf: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    found: dict[int, tuple[bytes, bytes | None]] = {}
    for match in _OBJECT.finditer(pdf):
        body = match.group(2)
        stream = _STREAM.search(body)
        data = None
        if stream:
            data = stream.group(1)
            head = body[: stream.start()]
            if b"/FlateDecode" in head:
                data = zlib.decompress(data)
            body = head
        found[int(match.group(1))] = (body, data)
    return found


def _cmap(data: bytes) -> dict[int, str]:
    text = data.decode("latin-1")
    mapping: dict[int, str] = {}
    for block in re.findall(r"beginbfchar(.*?)endbfchar", text, re.S):
        for src, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            mapping[int(src, 16)] = bytes.fromhex(dst).decode("utf-16-be")
    for block in re.findall(r"beginbfrange(.*?)endbfrange", text, re.S):
        for low, high, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            start = int(dst, 16)
            for offset, code in enumerate(range(int(low, 16), int(high, 16) + 1)):
                mapping[code] = chr(start + offset)
    return mapping


def _fonts(objects: dict[int, tuple[bytes, bytes | None]], page: bytes) -> dict[str, dict[int, str]]:
    """Resource name -> the font's glyph-id -> text map."""
    body = page.decode("latin-1")
    resources = re.search(r"/Resources\s+" + _REF, body)
    if resources:
        body = objects[int(resources.group(1))][0].decode("latin-1")
    fonts_block = re.search(r"/Font\s*<<(.*?)>>", body, re.S)
    if fonts_block is None:
        return {}
    maps: dict[str, dict[int, str]] = {}
    for name, ref in re.findall(r"/(\w+)\s+" + _REF, fonts_block.group(1)):
        font = objects[int(ref)][0].decode("latin-1")
        to_unicode = re.search(r"/ToUnicode\s+" + _REF, font)
        assert to_unicode, f"font {name} has no ToUnicode map"
        data = objects[int(to_unicode.group(1))][1]
        assert data is not None
        maps[name] = _cmap(data)
    return maps


_ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("f"): 12}


def _literal(stream: bytes, i: int) -> tuple[bytes, int]:
    """The PDF literal string starting after the `(` at i-1, unescaped; and the index after it."""
    out, depth = bytearray(), 1
    while True:
        c = stream[i]
        if c == 0x5C:  # backslash
            nxt = stream[i + 1]
            if 0x30 <= nxt <= 0x37:
                digits = re.match(rb"[0-7]{1,3}", stream[i + 1 : i + 4])
                assert digits
                out.append(int(digits.group(), 8))
                i += 1 + len(digits.group())
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        if c == 0x28:
            depth += 1
        elif c == 0x29:
            depth -= 1
            if depth == 0:
                return bytes(out), i + 1
        out.append(c)
        i += 1


_TOKEN = re.compile(rb"\(|<([0-9A-Fa-f]*)>|/(\w+)\s+[\d.]+\s+Tf|\b(Tj|TJ|ET)\b")


def _strings(stream: bytes) -> list[tuple[str | None, bytes | None]]:
    """(font name, None) on Tf; (None, glyph bytes) for each shown string; (None, None) at ET."""
    events: list[tuple[str | None, bytes | None]] = []
    shown: list[bytes] = []
    i = 0
    while True:
        match = _TOKEN.search(stream, i)
        if match is None:
            return events
        if match.group(0) == b"(":
            text, i = _literal(stream, match.end())
            shown.append(text)
            continue
        hex_text, font, op = match.groups()
        if hex_text is not None:
            shown.append(bytes.fromhex(hex_text.decode()))
        elif font is not None:
            events.append((font.decode(), None))
        elif op in (b"Tj", b"TJ"):
            events.extend((None, text) for text in shown)
            shown = []
        else:
            events.append((None, None))
        i = match.end()


def _show(raw: bytes, cmap: dict[int, str]) -> str:
    return "".join(cmap.get(int.from_bytes(raw[i : i + 2], "big"), "\ufffd") for i in range(0, len(raw), 2))


def page_texts(pdf: bytes) -> list[str]:
    """Each page's text: one line per BT...ET block (one cell), its strings joined."""
    objects = _objects(pdf)
    pages = [body for _, (body, _) in sorted(objects.items()) if re.search(rb"/Type\s*/Page(?!s)", body)]
    texts = []
    for page in pages:
        fonts = _fonts(objects, page)
        contents = re.search(rb"/Contents\s+(\d+) 0 R", page)
        assert contents
        lines: list[str] = []
        current, font = "", ""
        for name, raw in _strings(objects[int(contents.group(1))][1] or b""):
            if name is not None:
                font = name
            elif raw is not None:
                current += _show(raw, fonts[font])
            else:
                lines.append(current)
                current = ""
        texts.append("\n".join(line for line in lines if line))
    return texts


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page_texts(pdf))
