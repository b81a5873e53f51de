"""Knowledge: load documents, chunk them by structure, embed, store in Chroma + BM25, retrieve with citations, answer."""
