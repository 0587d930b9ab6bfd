"""Every rendered edit as an OpenTimelineIO timeline: build (EDL → OTIO), formats (adapters and what each
keeps), mlt (the MLT XML melt renders), export (written next to each render), read (an edited timeline
back to an EDL) and roundtrip (melt's render held against ours)."""
