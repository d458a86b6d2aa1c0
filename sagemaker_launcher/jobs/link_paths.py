"""Where the symbolic links of a folder lead, worked out from their names and targets alone.

The checks in ``archives`` use it twice: on an archive's member list before anything is written, and
on the unpacked folder before it is moved into place. Paths are followed one '/'-separated component
at a time, as the kernel does, through links in any order; '..' above the folder is outside even if a
later step comes back in, since the folder is renamed afterwards. No disk lookup is involved, so
neither ``os.path.realpath``'s PATH_MAX shortcuts (which also weaken tarfile's "data" filter on older
Pythons) nor the order of the members can hide an escape.
"""

from __future__ import annotations

import unicodedata

# A chain of links nested deeper than this is refused (Linux itself follows at most 40 in one lookup).
MAX_LINK_DEPTH = 40
_ROOT = 0
# What a path resolves to besides a node of the tree: above the folder, or into a cycle of links.
OUTSIDE = -1
LOOP = -2


class LinkDepthError(Exception):
    """A link resolves only through more than ``MAX_LINK_DEPTH`` nested links."""


class LinkTree:
    """A folder's paths as a tree of nodes, with the symbolic links among them.

    ``links`` maps each link's path (relative, '/'-separated, without '..') to its target as written.
    """

    def __init__(self, links: dict[str, str]) -> None:
        self._parent = [_ROOT]
        self._part = [""]
        self._children: list[dict[str, int]] = [{}]
        self._targets: dict[int, str] = {}
        self._resolved: dict[int, int] = {}
        for path, target in links.items():
            self._targets[self.node(path)] = target

    def node(self, path: str) -> int:
        """The node named by ``path`` literally, following no link."""
        node = _ROOT
        for part in path.split("/"):
            if part not in ("", "."):
                node = self._child(node, part)
        return node

    def path(self, node: int) -> str:
        parts = []
        while node != _ROOT:
            parts.append(self._part[node])
            node = self._parent[node]
        return "/".join(reversed(parts))

    def is_link(self, node: int) -> bool:
        return node in self._targets

    def link_above(self, path: str) -> str | None:
        """The path of the first link among ``path``'s parent folders, where writing would follow it."""
        parts = [part for part in path.split("/") if part not in ("", ".")]
        node = _ROOT
        for part in parts[:-1]:
            node = self._child(node, part)
            if node in self._targets:
                return self.path(node)
        return None

    def resolve_link(self, path: str) -> int:
        """Where the link at ``path`` finally leads: a node, ``OUTSIDE`` or ``LOOP``.

        Raises ``LinkDepthError`` for chains nested deeper than ``MAX_LINK_DEPTH``.
        """
        return self._follow(self.node(path), 0)

    def collision_with_link(self) -> tuple[str, str] | None:
        """A link and another path seen so far that differ only in case or Unicode form: (link, other).

        A case-insensitive disk (macOS, Windows) stores them as one, so a link would stand where the
        name-based resolution saw a plain folder. Call it after resolving, so link targets count too.
        """
        folded_nodes: dict[tuple[int, str], int] = {}
        first_of: dict[int, int] = {}
        folded_of = {_ROOT: _ROOT}
        for node in range(1, len(self._parent)):
            key = (folded_of[self._parent[node]], _fold(self._part[node]))
            folded = folded_nodes.setdefault(key, len(folded_nodes) + 1)
            folded_of[node] = folded
            other = first_of.setdefault(folded, node)
            if other != node and (self.is_link(node) or self.is_link(other)):
                link, path = (node, other) if self.is_link(node) else (other, node)
                return self.path(link), self.path(path)
        return None

    def _child(self, node: int, part: str) -> int:
        children = self._children[node]
        if part not in children:
            children[part] = len(self._parent)
            self._parent.append(node)
            self._part.append(part)
            self._children.append({})
        return children[part]

    def _follow(self, link: int, depth: int) -> int:
        if link not in self._resolved:
            if depth >= MAX_LINK_DEPTH:
                raise LinkDepthError(self.path(link))
            self._resolved[link] = LOOP  # met again while still resolving: a cycle
            self._resolved[link] = self._walk(self._parent[link], self._targets[link], depth + 1)
        return self._resolved[link]

    def _walk(self, node: int, target: str, depth: int) -> int:
        if target.startswith("/"):
            return OUTSIDE
        for part in target.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if node == _ROOT:
                    return OUTSIDE
                node = self._parent[node]
                continue
            node = self._child(node, part)
            if node in self._targets:
                node = self._follow(node, depth)
                if node in (OUTSIDE, LOOP):
                    return node
        return node


def _fold(part: str) -> str:
    return unicodedata.normalize("NFKC", part).casefold()
