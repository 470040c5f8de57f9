"""`certdesk bench`: measures certdesk against other search libraries on the same passages.

corpus.py  a deterministic, seeds-style corpus and its questions
peers.py   one small adapter per peer library (plain Whoosh, rank_bm25, tantivy)
run.py     building, timing, the table and the JSON
"""
