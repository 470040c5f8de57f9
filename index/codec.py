"""Whoosh's codec, with each segment's field lengths read into memory once.

BM25 needs a section's field length for every posting it scores, and Whoosh's writer asks for
it again for every posting it writes. Whoosh reads each one from the column file (a seek and
a read through Python file objects): an eighth of a question's time and of an index writer's.
The lengths are one byte per section and field (50 KB per field at 50,000 sections), so this
codec's readers read a field's column in one piece on first use and look lengths up in it.
Everything written is exactly what Whoosh's own codec writes; the class is recorded in the
index, which is how a reader gets the same behaviour.
"""

from __future__ import annotations

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3Codec, W3PerDocReader, _lenfield
from whoosh.util.numeric import byte_to_length

# A length byte -> the length Whoosh reports (0 means "no length": Whoosh returns None).
_LENGTH_OF: tuple[int | None, ...] = (None, *(byte_to_length(b) for b in range(1, 256)))


class InMemoryLengthsCodec(W3Codec):
    """W3Codec whose per-document readers keep the field lengths in memory."""

    def per_document_reader(self, storage, segment):
        return InMemoryLengthsReader(storage, segment)


class InMemoryLengthsReader(W3PerDocReader):
    """W3PerDocReader answering doc_field_length from the lengths column read in one piece."""

    def __init__(self, storage, segment):
        super().__init__(storage, segment)
        self._length_bytes: dict[str, bytes | None] = {}

    def doc_field_length(self, docnum, fieldname, default=0):
        if fieldname not in self._length_bytes:
            self._length_bytes[fieldname] = self._read_lengths(fieldname)
        data = self._length_bytes[fieldname]
        if data is None:
            return super().doc_field_length(docnum, fieldname, default)
        if docnum > self._doccount:
            raise IndexError(f"Asked for docnum {docnum!r} of {self._doccount}")
        return _LENGTH_OF[data[docnum]] if docnum < len(data) else None

    def _read_lengths(self, fieldname: str) -> bytes | None:
        """The field's length bytes, one per section; None when the field has no lengths or
        the column is not laid out as Whoosh 2.7.4 lays it out (then Whoosh reads each)."""
        reader = self._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        try:
            if reader is None or reader._fixedlen != 1:
                return None
            return bytes(reader._dbfile.get(reader._basepos, reader._count))
        except AttributeError:
            return None
