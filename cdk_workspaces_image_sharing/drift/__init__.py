"""``workspace-image-shares``: compare the shares the stacks declare with what WorkSpaces lists,
and repair the difference.
"""
