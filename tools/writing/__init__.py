"""The writing family: short texts (a joke, a line, a short script) written by the run's LLM, as
results a later step can take (`${steps.write.text}`)."""
