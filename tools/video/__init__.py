"""Video analysis (scene detection, scene index) and editing (EDL → one ffmpeg graph)."""
