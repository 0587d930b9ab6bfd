"""A name the model fills in for a run on a film must belong to that film in the knowledge base."""
from __future__ import annotations

from agent.planning.slots.names import film_names, known_names


class _Store:
    META = {"films": [{"film": "Luca", "characters": "Luca Paguro, Giulia Marcovaldo"},
                      {"film": "The Tide Keeper", "characters": "Pip, Captain Brine"}],
            "characters": [{"film": "Luca", "character": "Alberto Scorfano"}, {"film": "", "character": "Nobody"}]}

    def kinds(self):
        return list(self.META)

    def metadatas(self, kind):
        return self.META[kind]


class _KB:
    store = _Store()


def test_a_film_lends_only_its_own_cast():
    assert film_names(_KB(), "samples/the_tide_keeper.mp4") == ["Pip", "Captain Brine"]
    assert sorted(film_names(_KB(), "/work/films/luca_clip.mp4")) == ["Alberto Scorfano", "Giulia Marcovaldo", "Luca Paguro"]
    assert film_names(_KB(), "/work/shared/films/sintel_trailer.mp4") == []  # not a name of Luca's for Sintel
    assert "Giulia Marcovaldo" in known_names(_KB())[0]  # the request may still name anyone the base knows
    assert film_names(None, "x.mp4") == [] and film_names(_KB(), "") == []
