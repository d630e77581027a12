"""TP2's Streamlit app: type a text, see the probability of each of the model's classes.

    streamlit run streamlit_app.py

Predictions come from the API (API_URL, e.g. http://api:8000) or, when API_URL is not set, from
a model file read in-process (MODEL_PATH). See classifier_client.py for the settings.
"""

from __future__ import annotations

import streamlit as st

from classifier_client import NOT_CONFIGURED, PredictionError, Settings, predict

st.set_page_config(page_title="Text classifier", page_icon=":label:")
st.title("Text classifier")

try:
    settings = Settings.from_env()
except PredictionError as exc:
    st.error(str(exc))
    st.stop()

if settings.source is None:
    st.error(NOT_CONFIGURED)
    st.stop()
st.caption(f"Predictions from {settings.source}.")

with st.form("classify"):
    text = st.text_area("Text to classify", height=150, placeholder="The striker scored twice.")
    submitted = st.form_submit_button("Classify", type="primary")

if submitted:
    if not text.strip():
        st.error("The text is empty: type a sentence to classify.")
        st.stop()
    try:
        with st.spinner("Classifying..."):
            prediction = predict(settings, text)
    except PredictionError as exc:
        st.error(str(exc))
        st.stop()

    st.success(f"Most likely class: **{prediction.label}**")
    ranked = sorted(prediction.probabilities.items(), key=lambda item: item[1], reverse=True)
    rows = {"class": [name for name, _ in ranked], "probability": [p for _, p in ranked]}
    st.bar_chart(rows, x="class", y="probability", horizontal=True, sort="-probability")
    st.dataframe(
        rows,
        hide_index=True,
        column_config={
            "class": st.column_config.TextColumn("Class"),
            "probability": st.column_config.ProgressColumn(
                "Probability", format="percent", min_value=0.0, max_value=1.0
            ),
        },
    )
