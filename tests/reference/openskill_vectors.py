"""Expected OpenSkill Plackett-Luce results from openskill.py itself (whichever release is first
on PYTHONPATH), for tests/openskill.rs.

    PYTHONPATH=.../openskill-6.1.3 python openskill_vectors.py CASES.json OUT.json
Each case: {"model": {mu, sigma, beta, kappa, tau, limit_sigma}, "players": [[mu, sigma]...],
            "scores": [...] | "ranks": [...]}  or a sequence:
           {"model": ..., "population": [[mu, sigma]...], "rounds": [{"players": [i...], "scores": [...]}]}
Output: one list of [mu, sigma] per case (the match's players, or the final population).
"""
import json
import sys

from openskill.models import PlackettLuce


def model_of(m):
    return PlackettLuce(mu=m["mu"], sigma=m["sigma"], beta=m["beta"], kappa=m["kappa"], tau=m["tau"],
                        limit_sigma=m["limit_sigma"])


def main():
    cases = json.load(open(sys.argv[1]))
    out = []
    for case in cases:
        model = model_of(case["model"])
        if "rounds" in case:
            pop = [model.rating(mu=mu, sigma=sigma) for mu, sigma in case["population"]]
            for rnd in case["rounds"]:
                teams = [[pop[i]] for i in rnd["players"]]
                rated = model.rate(teams, scores=rnd["scores"])
                for i, team in zip(rnd["players"], rated):
                    pop[i] = team[0]
            out.append([[p.mu, p.sigma] for p in pop])
            continue
        players = [[model.rating(mu=mu, sigma=sigma)] for mu, sigma in case["players"]]
        if "scores" in case:
            rated = model.rate(players, scores=case["scores"])
        else:
            rated = model.rate(players, ranks=case["ranks"])
        out.append([[t[0].mu, t[0].sigma] for t in rated])
    json.dump(out, open(sys.argv[2], "w"))


if __name__ == "__main__":
    main()
