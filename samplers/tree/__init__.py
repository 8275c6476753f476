"""The rolling stack tree: StackTree, its buckets, index, windows, history and queries, and
the frozen Snapshot it produces."""
