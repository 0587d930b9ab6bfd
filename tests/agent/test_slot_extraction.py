"""The deterministic slot extractor on many phrasings, English and Italian (no model involved)."""
from __future__ import annotations

import pytest

from agent.planning.slots import extract_slots

NAMES = ["Pip", "Captain Brine", "Gull", "Luca Paguro", "Alberto Scorfano", "Giulia Marcovaldo"]
TITLES = ["The Tide Keeper", "Luca"]

# (request, expected slots): "scene" is a substring of the scene slot (None = no scene words),
# other keys must be equal; keys not listed must be absent unless marked "any".
CASES = [
    # English, scene by what is seen
    ("make a goofy parody of the scene where the fat rabbit crawls out of his hole",
     {"scene": "the scene where the fat rabbit crawls out of his hole", "tone": "funny"}),
    ("spoof the bit with the dragon as a nature documentary",
     {"scene": "the bit with the dragon", "tone": "nature documentary"}),
    ("redub the snowy mountain scene with silly voices, 20 seconds",
     {"scene": "the snowy mountain scene", "tone": "funny", "duration": 20.0}),
    ("could you turn the harbour at night scene into a noir thing", {"scene": "harbour at night scene", "tone": "dark"}),
    ("a deadpan take on the sequence with the boats", {"scene": "the sequence with the boats", "tone": "deadpan"}),
    ("parody the scene in the dark hut where the shaman speaks to Sintel",
     {"scene": "the scene in the dark hut where the shaman speaks to Sintel", "characters": ["Sintel"]}),
    ("I want a 25-second sarcastic version of the shot with the dragon flying over the cliffs",
     {"scene": "the shot with the dragon flying over the cliffs", "tone": "sarcastic", "duration": 25.0}),
    ("make the campfire scene over the top", {"scene": "the campfire scene", "tone": "over-dramatic"}),
    ("a half a minute spoof of the fight on the snowy mountain",
     {"scene": "the fight on the snowy mountain", "duration": 30.0}),
    ("make a parody of the chase through the market, one minute long",
     {"scene": "the chase through the market", "duration": 60.0}),
    ("give the part where the sword breaks a movie trailer voice",
     {"scene": "the part where the sword breaks", "tone": "movie trailer"}),
    ("meme of the moment when the bird steals the bread, twelve seconds",
     {"scene": "the moment when the bird steals the bread", "duration": 12.0}),
    ("redo the whole dragon fight scene as sports commentary",
     {"scene": "dragon fight scene", "tone": "sports commentary", "extend": True}),
    # English, scene by a line of dialogue
    ("make a funny parody of the scene where she says she is searching for someone",
     {"scene": "the scene where she says she is searching for someone", "said": "she is searching for someone",
      "tone": "funny"}),
    ('turn the part where the old man asks "What brings you to the land of the gatekeepers?" into a sitcom',
     {"scene": "the old man asks", "said": "What brings you to the land of the gatekeepers?"}),
    ("make a parody of the moment she says 'I'm searching for someone.' please",
     {"scene": "I'm searching for someone.", "said": "I'm searching for someone."}),
    ("spoof the bit when the girl tells him she has been alone for as long as she can remember",
     {"scene": "the bit when the girl tells him", "said": "she has been alone for as long as she can remember"}),
    ("dub the line about the land of the gatekeepers with funny voices",
     {"said": "the land of the gatekeepers", "scene": "any", "tone": "funny"}),
    ("parody the scene where Captain Brine shouts that the tide is coming",
     {"scene": "where Captain Brine shouts", "said": "the tide is coming", "characters": ["Captain Brine"]}),
    ("“I've been alone for as long as I can remember” — make that scene wholesome",
     {"said": "I've been alone for as long as I can remember", "scene": "any", "tone": "wholesome"}),
    # English, position in the film
    ("parody the opening of the film in a deadpan style", {"scene": "the opening", "position": "opening", "tone": "deadpan"}),
    ("give me a 15 second meme of the ending", {"scene": "the ending", "position": "ending", "duration": 15.0}),
    ("do the whole opening as a movie trailer",
     {"scene": "the whole opening", "position": "opening", "tone": "movie trailer", "extend": True}),
    ("a horror spoof of the final scene", {"scene": "the final scene", "position": "ending", "tone": "horror"}),
    ("make the credits epic", {"scene": "credits", "position": "ending", "tone": "epic"}),
    # English, characters and film titles
    ("make Captain Brine's harbour scene over-dramatic",
     {"scene": "Captain Brine's harbour scene", "tone": "over-dramatic", "characters": ["Captain Brine"]}),
    ("make Pip's beach bit sarcastic", {"scene": "Pip's beach bit", "tone": "sarcastic", "characters": ["Pip"]}),
    ("a silly parody where Alberto and Giulia argue about pasta",
     {"scene": "any", "tone": "funny", "characters": ["Alberto Scorfano", "Giulia Marcovaldo"]}),
    ("make a spoof of Luca's sea monster reveal", {"scene": "any", "characters": "absent"}),
    # English, no scene words: the whole request will be the query
    ("dub this with silly voices", {"scene": None, "tone": "funny"}),
    ("make something absurd out of this film", {"scene": None, "tone": "absurd"}),
    ("surprise me", {"scene": None}),
    # Italian
    ("rifai la scena dell'oceano in versione comica", {"scene": "la scena dell'oceano (ocean)", "tone": "funny"}),
    ("fai una parodia della scena in cui lei dice che sta cercando qualcuno",
     {"scene": "la scena in cui lei dice che sta cercando qualcuno", "said": "sta cercando qualcuno"}),
    ("parodia divertente della scena con il drago, 30 secondi",
     {"scene": "la scena con il drago (dragon)", "tone": "funny", "duration": 30.0}),
    ("voglio un meme di 20 secondi sulla scena notturna", {"scene": "scena notturna (night)", "duration": 20.0}),
    ("fai una parodia dell'inizio come un documentario naturalistico",
     {"scene": "inizio", "position": "opening", "tone": "nature documentary"}),
    ("rendi comica la scena finale", {"scene": "la scena finale", "position": "ending", "tone": "funny"}),
    ("doppia con voci buffe la scena sulle montagne innevate",
     {"scene": "montagne innevate", "tone": "funny"}),
    ("una parodia sarcastica del momento in cui il drago attacca, mezzo minuto",
     {"scene": "momento in cui il drago attacca (dragon)", "tone": "sarcastic", "duration": 30.0}),
    ('fai la parodia della scena dove dice "I\'m searching for someone"',
     {"said": "I'm searching for someone", "scene": "la scena dove dice"}),
    ("parodia drammatica della scena nella capanna buia con lo sciamano",
     {"scene": "la scena nella capanna buia con lo sciamano (", "tone": "over-dramatic"}),
    ("crea un video di un minuto sulla scena del porto con Captain Brine",
     {"scene": "la scena del porto", "duration": 60.0, "characters": ["Captain Brine"]}),
    ("trasforma tutta la scena iniziale in un trailer epico",
     {"scene": "scena iniziale", "position": "opening", "tone": "movie trailer and epic", "extend": True}),
    ("fammi ridere con questo film", {"scene": None}),
]


@pytest.mark.parametrize("request_text, expected", CASES, ids=[c[0][:40] for c in CASES])
def test_slots_from_the_request(request_text: str, expected: dict) -> None:
    slots = extract_slots(request_text, NAMES, TITLES)
    found = {k: v.value for k, v in slots.found.items()}
    scene = expected.get("scene")
    if scene is None:
        assert "scene" not in found, found
    elif scene != "any":
        assert scene.lower() in found.get("scene", "").lower(), found
    for key in ("tone", "duration", "said", "position", "extend", "characters"):
        if key not in expected:
            assert key not in found or key == "tone" and expected.get("tone") == "any", (key, found)
        elif expected[key] == "absent":
            assert key not in found, found
        else:
            assert found.get(key) == expected[key], (key, found)
    for key, slot in slots.found.items():  # every value carries the words that stated it
        assert slot.source == "request" and slot.evidence, (key, slot)


def test_language_is_detected() -> None:
    assert extract_slots("rifai la scena del drago in versione comica").language == "it"
    assert extract_slots("redo the dragon scene as a comedy").language == "en"


def test_enough_phrasings_and_none_copied_from_the_workflow_examples() -> None:
    from workflows import all_workflows

    examples = {e.lower() for wf in all_workflows().values() for e in wf.examples}
    requests = [c[0] for c in CASES]
    assert len(requests) >= 40 and sum(extract_slots(r).language == "it" for r in requests) >= 10
    assert not examples & {r.lower() for r in requests}
