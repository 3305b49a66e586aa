"""Streamlit helpers shared by the pages (widgets -> Spec, live job display). core/ never imports this."""
