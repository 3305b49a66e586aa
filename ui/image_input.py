"""The CNN page's "Look inside" input: a test image picked by number, or the student's own picture."""

from __future__ import annotations

import random

import streamlit as st

from core.data.upload import MAX_UPLOAD_BYTES, image_to_input, open_upload


@st.cache_data(max_entries=4, show_spinner=False)
def upload_input(raw: bytes, size: int, mean: float, std: float):
    return image_to_input(open_upload(raw), size, mean, std)


def image_input_ui(prefix: str, data, size: int):
    """The image to look inside: a test image by number, or an upload. Returns (x, true class or None, shown)."""
    st.subheader("Look inside")
    n_te = len(data.x_test)
    src, pick = st.columns([1, 3])
    source = src.radio("Input", ["Test image", "Upload"], key=f"{prefix}.source", horizontal=True)
    if source == "Test image":
        st.session_state[f"{prefix}.index"] = min(st.session_state.get(f"{prefix}.index", 0), n_te - 1)
        c1, c2 = pick.columns([3, 1], vertical_alignment="bottom")
        c1.number_input(f"Test image (0-{n_te - 1})", 0, n_te - 1, key=f"{prefix}.index")
        c2.button("Random", on_click=lambda: st.session_state.update({f"{prefix}.index": random.randrange(n_te)}))
        i = st.session_state[f"{prefix}.index"]
        x = data.x_test[i : i + 1].cpu().numpy()
        return x, int(data.extra["labels_test"][i]), x[0, 0]
    up = pick.file_uploader(
        f"A PNG or JPEG (at most {MAX_UPLOAD_BYTES // 10**6} MB); it is made grey, cropped to the ink and resized",
        type=["png", "jpg", "jpeg"],
        key=f"{prefix}.upload",
    )
    if up is None:
        st.info("Upload a picture to see what the network makes of it.")
        return None, None, None
    try:
        x, shown = upload_input(up.getvalue(), size, data.extra["mean"], data.extra["std"])
    except ValueError as e:
        st.error(f"Cannot use this image: {e}")
        return None, None, None
    return x, None, shown
