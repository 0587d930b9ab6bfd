"""Quality scorers: video, audio, subtitles, script, images."""
