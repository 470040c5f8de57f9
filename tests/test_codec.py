"""The index codec: field lengths read into memory are the lengths Whoosh reads one by one."""

from __future__ import annotations

from whoosh.codec.whoosh3 import W3PerDocReader

from index.codec import InMemoryLengthsReader
from index.store import current_path, open_index


def test_field_lengths_in_memory_are_whooshs(seed_paths):
    ix = open_index(current_path(seed_paths.index_dir))
    try:
        with ix.searcher() as searcher:
            for reader, _ in searcher.reader().leaf_readers():
                ours = reader._perdoc
                assert isinstance(ours, InMemoryLengthsReader)
                theirs = W3PerDocReader(reader.storage(), reader.segment())
                for field in ("title", "names", "topics", "body", "all", "words", "cert"):
                    for docnum in range(reader.doc_count_all() + 1):
                        assert ours.doc_field_length(docnum, field, 7) == theirs.doc_field_length(docnum, field, 7)
                theirs.close()
    finally:
        ix.close()
