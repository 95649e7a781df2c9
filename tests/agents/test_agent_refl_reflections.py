"""Reflexion reflections and ExpeL insights: fallbacks, vote bookkeeping, store sync."""

from __future__ import annotations

import pytest

from memplay.agents.methods.expel.learn import ExpelReflection, parse_operations
from memplay.agents.methods.expel.store import InsightBook, Operation
from memplay.agents.methods.reflexion.learn import Reflector, ReflexionReflection
from memplay.agents.methods.reflexion.store import ReflectionStore
from memplay.errors import ConfigError
from memplay.llm.fake import ScriptedLLM
from memplay.memory import FaissMemoryStore, HashEmbedder
from memplay.types import Step, Trajectory


def failed_episode(seed: int = 0) -> Trajectory:
    steps = [
        Step(observation="you are at S", action="right"),
        Step(observation="you are next to a hole", action="down"),
    ]
    return Trajectory(env_id="FrozenLake-4x4-v0", goal="reach G", steps=steps, success=False,
                      seed=seed)


def test_reflection_from_llm_is_kept_and_counted() -> None:
    advice = "I stepped into the hole below me. Next time I should go right twice first."
    llm = ScriptedLLM(responses=[advice])
    reflector = Reflector(llm)
    reflection = reflector.reflect(failed_episode())
    assert reflection.text == advice and reflection.source == "llm"
    assert (reflector.generated, reflector.fallbacks) == (1, 0)
    assert "you are next to a hole -> down" in llm.calls[0][1][0][1]["content"]


@pytest.mark.parametrize("answer", ["", "ok", "Goal: reach G\n1. you are at S -> right (reward 0)"])
def test_useless_reflection_falls_back_to_template(answer: str) -> None:
    reflector = Reflector(ScriptedLLM(responses=[answer]))
    reflection = reflector.reflect(failed_episode())
    assert reflection.source == "template" and reflector.fallbacks == 1
    assert "right, down" in reflection.text and "'down'" in reflection.text


def test_reflection_llm_error_falls_back() -> None:
    reflector = Reflector(ScriptedLLM(fail_on=0))
    assert reflector.reflect(failed_episode()).source == "template"
    assert reflector.fallbacks == 1


def test_reflection_becomes_a_retrievable_memory_item() -> None:
    store = FaissMemoryStore(HashEmbedder(64))
    item = Reflector().reflect(failed_episode()).to_memory_item()
    store.add([item])
    hit = store.search(["reach G"], k=1)[0][0]
    assert hit.item.kind == "reflection" and hit.item.id == item.id
    assert hit.item.metadata["source"] == "template"


def test_vote_bookkeeping_add_agree_edit_remove() -> None:
    book = InsightBook(initial_votes=2)
    assert book.apply(Operation(op="ADD", text="Holes end the episode; avoid them."))
    assert book.apply(Operation(op="ADD", text="Prefer moving down on the left column."))
    assert [x.votes for x in book.insights] == [2, 2]
    book.apply(Operation(op="AGREE", target=1))
    book.apply(Operation(op="EDIT", target=2, text="Move down the left column, then right."))
    assert [x.votes for x in book.insights] == [3, 3]
    assert book.insights[1].text == "Move down the left column, then right."
    for _ in range(2):
        book.apply(Operation(op="REMOVE", target=2))
    assert [x.votes for x in book.insights] == [3, 1]
    book.apply(Operation(op="REMOVE", target=2))  # votes reach 0: the insight goes
    assert [x.text for x in book.insights] == ["Holes end the episode; avoid them."]
    assert not book.apply(Operation(op="AGREE", target=5))
    assert book.invalid == 1


def test_repeated_add_counts_as_agreement_and_cap_is_enforced() -> None:
    book = InsightBook(max_insights=1)
    book.apply(Operation(op="ADD", text="Avoid the holes on the map."))
    book.apply(Operation(op="ADD", text="avoid the holes on the map!"))
    assert len(book.insights) == 1 and book.insights[0].votes == 3
    assert not book.apply(Operation(op="ADD", text="Something different entirely here."))
    assert book.invalid == 1


def test_llm_answer_numbers_refer_to_the_list_it_was_shown() -> None:
    book = InsightBook(initial_votes=1)
    for text in ("First lesson about holes.", "Second lesson about goals.", "Third one, walls."):
        book.apply(Operation(op="ADD", text=text))
    answer = "REMOVE 1\nAGREE 3\n- EDIT 2: Goals give reward one.\nI think it went well"
    counts = book.apply_all(*parse_operations(answer))
    assert counts == {"applied": 3, "invalid": 1}
    assert [(x.text, x.votes) for x in book.insights] == [
        ("Goals give reward one.", 2),
        ("Third one, walls.", 2),
    ]


def test_parse_operations_accepts_common_shapes() -> None:
    ops, invalid = parse_operations(
        "```\n1. ADD: Keep boxes off walls.\n* UPVOTE #2\nDOWNVOTE 3\nEDIT: missing number\n```"
    )
    assert [(o.op, o.target) for o in ops] == [("ADD", None), ("AGREE", 2), ("REMOVE", 3)]
    assert invalid == 1


def test_expel_asks_after_enough_episodes_and_persists_its_acceptance(tmp_path) -> None:
    path = tmp_path / "insights.json"
    llm = ScriptedLLM(responses=["ADD: Reaching G needs two downs first.", "no idea"])
    expel = ExpelReflection(InsightBook(path), llm, "FrozenLake-4x4-v0", rewrite_every=2)
    wins = failed_episode().model_copy(update={"success": True})
    expel.learn([failed_episode()])
    assert llm.calls == []  # one episode of two: not due yet
    expel.learn([wins])
    assert "Outcome: success" in llm.calls[0][1][0][1]["content"]
    assert "Reaching G needs two downs first." in expel.prompt_text("any goal", "")
    expel.learn([wins, wins])  # answered with no operation: counted, nothing applied
    again = InsightBook(path)
    assert [x.text for x in again.insights] == ["Reaching G needs two downs first."]
    assert again.stats == {"answers": 2, "accepted": 1}
    failing = ExpelReflection(InsightBook(), ScriptedLLM(fail_on=0), "x")
    failing.learn([wins])
    assert (failing.answers, failing.accepted) == (1, 0)


def test_reflexion_shows_a_tasks_own_reflections_on_its_next_try(tmp_path) -> None:
    advice = "I stepped into the hole below me. Next time I should go right twice first."
    llm = ScriptedLLM(responses=[advice, ""])
    reflexion = ReflexionReflection(ReflectionStore(tmp_path), Reflector(llm),
                                    "FrozenLake-4x4-v0", shown=1)
    won = failed_episode(seed=2).model_copy(update={"success": True})
    reflexion.learn([failed_episode(seed=1), won, failed_episode(seed=3)])
    assert len(llm.calls) == 1 and len(llm.calls[0][1]) == 2  # failures only, one batch
    assert reflexion.prompt_text("reach G", "", seed=1) == f"- {advice}"
    assert reflexion.prompt_text("reach G", "", seed=2) == ""
    again = ReflectionStore(tmp_path)
    assert again.counts() == {"llm": 1, "template": 1}
    assert [r.seed for r in again.for_task("FrozenLake-4x4-v0", 3)] == [3]


def test_sync_keeps_store_in_step_with_the_book() -> None:
    store = FaissMemoryStore(HashEmbedder(64))
    book = InsightBook(initial_votes=1)
    book.apply(Operation(op="ADD", text="Avoid the holes on the map."))
    book.apply(Operation(op="ADD", text="Walk along the left edge first."))
    assert book.sync(store, "FrozenLake-4x4-v0") == {"added": 2, "updated": 0, "deleted": 0}
    first_id = book.to_memory_items()[0].id
    store.update(first_id, q=0.7)  # learned by retrieval; must survive a sync
    book.apply(Operation(op="AGREE", target=1))
    book.apply(Operation(op="REMOVE", target=2))
    assert book.sync(store, "FrozenLake-4x4-v0") == {"added": 0, "updated": 1, "deleted": 1}
    [item] = [i for i in store.items() if i.kind == "insight"]
    assert item.id == first_id and item.q == 0.7 and item.metadata["votes"] == 2


def test_bad_book_settings_raise_config_error() -> None:
    with pytest.raises(ConfigError, match="max_insights=0"):
        InsightBook(max_insights=0)


def test_reflections_insights_and_critiques_take_part_in_q_value_retrieval() -> None:
    from memplay.agents.methods.critique.store import critique_item
    from memplay.memory import MemRLRetriever, RetrievalConfig
    from memplay.trainers.revisions import RevisionTrajectory, Turn

    store = FaissMemoryStore(HashEmbedder(64))
    reflection = Reflector().reflect(failed_episode()).to_memory_item()
    book = InsightBook()
    book.apply(Operation(op="ADD", text="reach G by walking around the holes"))
    revision = RevisionTrajectory(
        env_id="FrozenLake-4x4-v0", goal="reach G", start_obs="you are at S", thought="t",
        bad_steps=[Turn(action="down", obs="hole")], good_steps=[Turn(action="right", obs="G")],
    )
    store.add([reflection, critique_item(revision)])
    book.sync(store, "FrozenLake-4x4-v0")
    retriever = MemRLRetriever(store, RetrievalConfig(k1=3, k2=3, delta=-1.0, alpha=0.5))
    found = {r.item.kind: r.item.id for r in retriever.retrieve("reach G")}
    assert set(found) == {"reflection", "insight", "critique"}
    updated = retriever.update_q([found["insight"], found["critique"]], reward=1.0)
    assert [item.q for item in updated] == [0.5, 0.5]
    assert store.get([found["reflection"]])[0].q == 0.0


def test_template_for_a_success_names_the_plan() -> None:
    won = failed_episode().model_copy(update={"success": True})
    text = Reflector().reflect(won).text
    assert "right, down" in text and "failed" not in text
