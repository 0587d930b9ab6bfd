"""Routing: from a request to what the user wants back (its deliverable) and the job(s) that make it.

- `signals`: facts about the request and its run (a question, a quoted line, a time range...);
- `router`: each job's cues (its workflow's `route:`) scored against the request's head clause;
- `deliverable`: the request split into its deliverables (two make a two-job plan) and purpose clauses;
- `model`: a capable model's own choice from the job catalogue, with the rules' reading as a hint;
- `reading`: the request read once (slots, signals, route), stored in the state for every node.
"""
