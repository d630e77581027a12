"""TP2 (Jour 2): the Streamlit app. Your code goes where the TODOs are.

    streamlit run streamlit_app.py

What the course asks: a page where one types a text ("un texte à classer") and sees the
probability of each of the model's three classes. classifier_client.py already talks to the
API (API_URL, e.g. http://api:8000) or loads a model file (MODEL_PATH): use its `Settings` and
`predict`.
"""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="Text classifier", page_icon=":label:")
st.title("Text classifier")

# TODO TP2: read the settings (classifier_client.Settings.from_env()) and stop with a message when
# neither API_URL nor MODEL_PATH is set.

# TODO TP2: a form with a text area labelled "Text to classify" and a "Classify" button.

# TODO TP2: on submit, call classifier_client.predict(settings, text), then show
# "Most likely class: <label>" and the probability of each class (a bar chart, a table).
st.info("TODO TP2: this page does not classify anything yet.")
