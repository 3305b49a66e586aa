"""Chart builders: plain numbers in, Plotly figures out (one template, one colour scheme)."""
