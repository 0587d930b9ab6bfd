"""Character identity backends: find faces/figures in a frame and embed them for matching.

`regions.py`: what a backend returns and the matching; `choice.py`: which backend a film gets;
`dnn_backend.py`, `opencv_backend.py`, `arcface.py`: the backends.
"""
