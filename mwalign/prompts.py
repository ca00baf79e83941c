"""Text prompts (prefixes) the E5 family expects: the one place that spells them.

E5 model cards: ``query: `` for symmetric tasks (bitext mining, STS, classification) and for queries,
``passage: `` for documents. Evaluation prefixes every model whose label, path or base contains a key
of :data:`DEFAULT_PROMPTS`; training prepends the model's own query prompt, falling back to
:data:`E5_QUERY` for the mE5 role; the local ``me5-small`` folder records :data:`E5_PROMPTS`; the truncated ``me5-small-l<L>`` stand-ins record
no prompt and evaluation gives them :data:`TRUNCATED_PROMPT`.
"""

from __future__ import annotations

E5_QUERY = "query: "
E5_PASSAGE = "passage: "
E5_PROMPTS = {"query": E5_QUERY, "passage": E5_PASSAGE, "document": E5_PASSAGE}  # sentence-transformers prompts
TRUNCATED_PROMPT = ""  # me5-small-l<L>: the cut mE5 stand-ins take no prefix (models.recipes)
# evaluation.prompts default: model-name key -> prefix; the first key found wins, so the stand-ins come before "e5"
DEFAULT_PROMPTS = {"me5-small-l": TRUNCATED_PROMPT, "e5": E5_QUERY}
