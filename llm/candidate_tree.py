"""A token trie over one prompt's candidates, so shared leading tokens are run once.

Scoring candidate ``[t1, ..., tn]`` after a prompt needs the model's next-token log-probs
after the prompt (for t1), after ``prompt + t1`` (for t2), and so on. Candidates such as
"go to desk 1", "go to desk 2" and "go to drawer 3" share "go to": each distinct proper
prefix is a *node* of the trie, fed to the model once, and every candidate reads its token
log-probs at the nodes along its path. All nodes of a prompt run in one forward pass: node
i sits at position ``prompt_len + depth(i) - 1`` and attends to the prompt and to its own
ancestors only (see :meth:`CandidateTree.ancestors`).

    >>> tree = CandidateTree.build([[7, 1, 2], [7, 1, 3], [7, 4], [9]])
    >>> tree.tokens, tree.parents, tree.depths
    ((7, 1), (-1, 0), (1, 2))
    >>> tree.reads[0]
    ((-1, 7), (0, 1), (1, 2))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch

__all__ = ["PROMPT", "CandidateTree"]

# The node index that stands for "right after the prompt" (read from the prompt's logits).
PROMPT = -1


@dataclass(frozen=True)
class CandidateTree:
    """The trie nodes one prompt needs and, per candidate, where to read each token.

    Attributes:
        tokens: Per node, the token it feeds to the model.
        parents: Per node, its parent node (``PROMPT`` for children of the prompt).
        depths: Per node, its depth (1 for children of the prompt).
        reads: Per candidate, ``(node, token)`` for each of its tokens: the token's
            log-prob is read from the distribution after ``node``.
    """

    tokens: tuple[int, ...]
    parents: tuple[int, ...]
    depths: tuple[int, ...]
    reads: tuple[tuple[tuple[int, int], ...], ...]

    @classmethod
    def build(cls, candidates: Sequence[Sequence[int]], share: bool = True) -> CandidateTree:
        """Trie of ``candidates`` (token id lists); ``share=False`` gives every candidate its
        own chain of nodes (the cost of scoring without a trie, for comparisons).

        >>> CandidateTree.build([[7, 1], [7, 2]], share=False).tokens
        (7, 7)
        """
        index: dict[tuple[int, ...], int] = {}
        tokens: list[int] = []
        parents: list[int] = []
        reads = []
        for c, cand in enumerate(candidates):
            node, path = PROMPT, [(PROMPT, cand[0])]
            for depth in range(1, len(cand)):
                key = (*((c,) if not share else ()), *cand[:depth])
                if key not in index:
                    index[key] = len(tokens)
                    tokens.append(cand[depth - 1])
                    parents.append(node)
                node = index[key]
                path.append((node, cand[depth]))
            reads.append(tuple(path))
        depths: list[int] = []
        for parent in parents:  # parents always precede their children
            depths.append(1 if parent == PROMPT else depths[parent] + 1)
        return cls(tuple(tokens), tuple(parents), tuple(depths), tuple(reads))

    def __len__(self) -> int:
        return len(self.tokens)

    def ancestors(self) -> torch.Tensor:
        """Boolean ``[nodes, nodes]``: entry (i, j) is True when node j is i or an ancestor.

        >>> CandidateTree.build([[1, 2, 3], [4, 5]]).ancestors().int().tolist()
        [[1, 0, 0], [1, 1, 0], [0, 0, 1]]
        """
        n = len(self.tokens)
        mask = torch.zeros(n, n, dtype=torch.bool)
        for i, parent in enumerate(self.parents):
            if parent != PROMPT:
                mask[i] = mask[parent]
            mask[i, i] = True
        return mask

    def queries(self) -> list[tuple[int, int]]:
        """The distinct ``(node, token)`` log-probs needed beyond the prompt's own logits.

        >>> CandidateTree.build([[7, 1], [7, 1], [7, 2]]).queries()
        [(0, 1), (0, 2)]
        """
        wanted = {pair for path in self.reads for pair in path if pair[0] != PROMPT}
        return sorted(wanted)

    def sums(self, first: torch.Tensor, found: Mapping[tuple[int, int], float]) -> list[float]:
        """Per candidate, the sum of its tokens' log-probs.

        ``first`` holds the log-probs after the prompt; ``found`` the values of
        :meth:`queries`.

        >>> tree = CandidateTree.build([[0, 1], [1]])
        >>> tree.sums(torch.tensor([-1.0, -2.0]), {(0, 1): -0.5})
        [-1.5, -2.0]
        """
        return [
            sum(float(first[tok]) if node == PROMPT else found[(node, tok)] for node, tok in path)
            for path in self.reads
        ]
