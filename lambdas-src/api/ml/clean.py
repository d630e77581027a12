"""The one text-cleaning function, used at training AND at prediction time ("les clean", TP2).

`clean_text` applies these steps, in this order, to one text:

1. html        HTML entities decoded: `&amp;` -> `&`, `&#8220;` -> `“`, `&#128514;` -> 😂
2. urls        every URL (`http://...`, `https://...`, `www....`) replaced by `URLHERE`
3. retweets    retweet markers removed: the token `RT` (with an optional colon), e.g. `RT @x:`
4. mentions    every @mention replaced by `MENTIONHERE` (e-mail addresses are left alone)
5. whitespace  runs of spaces, tabs and line breaks collapsed to one space, ends stripped

`URLHERE` and `MENTIONHERE` are the placeholders of the data set's paper (Davidson et al. 2017):
what a mention or a link says about the class is that there is one, not whose it is.

The trained pipeline's first step is `FunctionTransformer(clean_texts)` (see ml/model.py), so the
model file itself cleans whatever it is asked to classify: the API and Streamlit send raw texts
and the model sees them exactly as it saw its training texts. That is also why this module must
ship beside ml/model.py wherever a model is loaded (the pickle refers to `ml.clean.clean_texts`).
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Callable, Iterable

URL_TOKEN = "URLHERE"
MENTION_TOKEN = "MENTIONHERE"

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_RETWEET = re.compile(r"(?<![\w@#])RT\b:?")
_MENTION = re.compile(r"(?<![\w@])@\w+")


def _html(text: str) -> str:
    # twice at most: the data set holds doubly escaped entities such as `&amp;#8220;`
    once = html.unescape(text)
    return html.unescape(once) if "&" in once else once


def _urls(text: str) -> str:
    return _URL.sub(URL_TOKEN, text)


def _retweets(text: str) -> str:
    return _RETWEET.sub(" ", text)


def _mentions(text: str) -> str:
    return _MENTION.sub(MENTION_TOKEN, text)


def _whitespace(text: str) -> str:
    return " ".join(text.split())


STEPS: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("html", _html),
    ("urls", _urls),
    ("retweets", _retweets),
    ("mentions", _mentions),
    ("whitespace", _whitespace),
)
STEP_NAMES: tuple[str, ...] = tuple(name for name, _ in STEPS)


def clean_text(text: object) -> str:
    """Clean one text (see the module docstring); a non-string (a number, NaN) becomes its str."""
    out = text if isinstance(text, str) else str(text)
    for _, step in STEPS:
        out = step(out)
    return out


def clean_texts(texts: Iterable[object]) -> list[str]:
    """`clean_text` over many texts: the pipeline's FunctionTransformer calls this."""
    return [clean_text(t) for t in texts]


def clean_with_counts(text: str, changed: Counter[str]) -> str:
    """`clean_text`, adding 1 to `changed[step]` for every step that changed this text."""
    out = text
    for name, step in STEPS:
        after = step(out)
        if after != out:
            changed[name] += 1
        out = after
    return out
