"""run_symbolic: discovery, then every candidate through the same protocol as the physics run."""
import json

import noether_lite as nl


def test_a_small_run_reports_the_search_and_the_tailored_rmse(monkeypatch):
    import noether_lite.experiments.symbolic as sym

    seen = []
    real = sym.build_tailored

    def spy(vanilla, emb, train, cfg, **kw):
        seen.append((type(emb).__name__, kw.get("meta_steps")))
        return real(vanilla, emb, train, cfg, **kw)

    monkeypatch.setattr(sym, "build_tailored", spy)
    r = nl.run_symbolic("spring", max_depth=2, progress=False, top_k=2, meta_k=1,
                        physics={"hidden": 16, "pretrain_steps": 40, "meta_steps": 2})
    json.dumps(r)
    assert r["enumerated"] > 0 and r["best_formula"] is not None
    assert set(r["rmse"]) == {"vanilla", "noether_symbolic", "noether_oracle"}
    assert all(v > 0 for v in r["rmse"].values())
    assert set(r["meta_trained"]) == {"noether_symbolic", "noether_oracle"}
    # screening (no meta-training) for each candidate, then the full protocol for the best and the oracle
    screened = min(2, r["families"])  # one screening per family shown, at most top_k
    assert [s for _, s in seen] == [0] * screened + [2, 2]
    assert seen[-1][0] == "OracleEmbedding"
