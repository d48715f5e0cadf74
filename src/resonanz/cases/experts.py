"""The expert finder: for a case, colleagues from any team or department who can help.

Two kinds of evidence, each given as a reason:

- **resolved similar cases**: TF-IDF over the folded words of a case's subject, summary, tags and
  first mention (stop words dropped), cosine similarity with the resolved/closed cases of the last
  :data:`CORPUS_SIZE`; a colleague scores with their most similar case plus a little for every
  further similar one (similarity >= :data:`MIN_SIMILARITY`);
- **profile skills** that name a word, tag or brand of the case (folded).

The current assignee is not suggested. "Bring in" (:func:`do_bring_in`) writes an internal note
that @mentions the expert through the case core's note action, which notifies them in the app and
by e-mail, and writes an audit row.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.accounts.models import Team, TeamMember, User, UserSkill
from resonanz.analysis.stopwords import STOPWORDS
from resonanz.audit.actions import Actor, do_record
from resonanz.cases.models import Case, CaseMention, CaseStatus
from resonanz.errors import InputError, NotFoundError
from resonanz.listening.models import Brand
from resonanz.mentions.models import Mention
from resonanz.mentions.text import fold
from resonanz.mentions.tokens import words

CORPUS_SIZE = 5000
MIN_SIMILARITY = 0.15


@dataclass
class Expert:
    user_id: int
    display_name: str
    email: str
    teams: list[str]
    score: float
    reasons: list[str] = field(default_factory=list)
    similar_case_ids: list[int] = field(default_factory=list)


def _terms(text: str) -> Counter[str]:
    return Counter(w for w in words(fold(text)) if len(w) > 2 and w not in STOPWORDS and not w.isdigit())


def _first_texts(session: Session, case_ids: list[int]) -> dict[int, str]:
    texts: dict[int, str] = {}
    for start in range(0, len(case_ids), 500):
        chunk = case_ids[start : start + 500]
        rows = session.execute(
            select(CaseMention.case_id, Mention.text)
            .join(Mention, Mention.id == CaseMention.mention_id)
            .where(CaseMention.case_id.in_(chunk))
            .order_by(CaseMention.case_id, CaseMention.added_at, CaseMention.mention_id)
        )
        for case_id, text in rows:
            texts.setdefault(case_id, text or "")
    return texts


def _document(case: Case, first_text: str) -> str:
    return " ".join([case.subject or "", case.summary or "", " ".join(case.tags or ()), first_text[:2000]])


def _vector(counts: Counter[str], idf: dict[str, float]) -> dict[str, float]:
    vec = {w: (1 + math.log(n)) * idf.get(w, 0.0) for w, n in counts.items()}
    norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
    return {w: v / norm for w, v in vec.items()}


def find_experts(session: Session, *, case: Case, limit: int = 5) -> list[Expert]:
    """Colleagues ranked by evidence (see the module docstring); at most ``limit``."""
    done = list(
        session.scalars(
            select(Case)
            .where(
                Case.status.in_((CaseStatus.resolved.value, CaseStatus.closed.value)),
                Case.assignee_id.is_not(None),
                Case.id != case.id,
            )
            .order_by(Case.id.desc())
            .limit(CORPUS_SIZE)
        )
    )
    texts = _first_texts(session, [c.id for c in done] + [case.id])
    docs = {c.id: _terms(_document(c, texts.get(c.id, ""))) for c in done}
    query = _terms(_document(case, texts.get(case.id, "")))
    df: Counter[str] = Counter()
    for counts in docs.values():
        df.update(counts.keys())
    n = len(docs) + 1
    idf = {w: math.log((n + 1) / (df.get(w, 0) + 1)) + 1 for w in set(df) | set(query)}
    qvec = _vector(query, idf)
    by_user: dict[int, list[tuple[float, Case]]] = {}
    for other in done:
        vec = _vector(docs[other.id], idf)
        sim = sum(v * vec.get(w, 0.0) for w, v in qvec.items())
        if sim >= MIN_SIMILARITY and other.assignee_id is not None:
            by_user.setdefault(other.assignee_id, []).append((sim, other))
    wanted = set(query) | {fold(t).strip() for t in case.tags or ()}
    if case.brand_id is not None:
        brand = session.scalar(select(Brand.name).where(Brand.id == case.brand_id))
        if brand:
            wanted.add(fold(brand).strip())
    skills: dict[int, list[str]] = {}
    for uid, skill in session.execute(select(UserSkill.user_id, UserSkill.skill)):
        if fold(skill).strip() in wanted:
            skills.setdefault(uid, []).append(skill)
    candidates = (set(by_user) | set(skills)) - {case.assignee_id}
    if not candidates:
        return []
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(candidates), User.active.is_(True)))}
    teams: dict[int, list[str]] = {}
    for uid, name in session.execute(
        select(TeamMember.user_id, Team.name)
        .join(Team, Team.id == TeamMember.team_id)
        .where(TeamMember.user_id.in_(users))
    ):
        teams.setdefault(uid, []).append(name)
    experts: list[Expert] = []
    for uid, user in users.items():
        similar = sorted(by_user.get(uid, []), key=lambda pair: (-pair[0], pair[1].id))
        own_skills = sorted(skills.get(uid, []))
        score = (similar[0][0] + 0.05 * (len(similar) - 1) if similar else 0.0) + 0.2 * len(own_skills)
        expert = Expert(uid, user.display_name, user.email, sorted(teams.get(uid, [])), round(score, 3))
        if similar:
            best_sim, best = similar[0]
            expert.reasons.append(f"resolved case #{best.id} “{best.subject[:80]}” (similarity {best_sim:.2f})")
            if len(similar) > 1:
                expert.reasons.append(f"resolved {len(similar)} similar cases")
            expert.similar_case_ids = [c.id for _, c in similar[:5]]
        if own_skills:
            expert.reasons.append("skills: " + ", ".join(own_skills))
        experts.append(expert)
    experts.sort(key=lambda e: (-e.score, e.display_name))
    return experts[:limit]


def do_bring_in(session: Session, *, case: Case, user_id: int, reason: str = "", actor: Actor) -> int:
    """Bring a colleague into ``case``: a note that @mentions them (notified by the case core);
    returns the note's id."""
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise NotFoundError(f"no active user {user_id}")
    if user_id == actor.user_id:
        raise InputError("you are already working on this case", location="user_id")
    from resonanz.cases.collab import do_add_note  # the case core's action (another area)

    handle = user.email.split("@", 1)[0]
    body = f"@{handle} brought in as an expert" + (f": {reason.strip()[:500]}" if reason.strip() else "")
    note = do_add_note(session, case=case, body=body, actor=actor)
    do_record(session, actor=actor, action="case.expert_added", object_type="case", object_id=case.id,
              after={"user_id": user_id, "note_id": note.id})  # fmt: skip
    return note.id
