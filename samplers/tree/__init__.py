"""The rolling stack tree. Entered through StackTree (stacktree.py) and ModeTrees
(modes.py); inside, a module imports and calls only the layers below it:

    modes → stacktree → data → window → query → index · buckets · history → snapshot

tests/test_tree_layers.py holds the order and checks that a snapshot keeps to it.
"""
