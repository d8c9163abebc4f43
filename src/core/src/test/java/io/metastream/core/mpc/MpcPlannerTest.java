package io.metastream.core.mpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.metastream.core.mpc.MpcConfig.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class MpcPlannerTest {

    /** s' = s + 0.1 a with observations and actions of {@code d} dimensions each. */
    private static BatchDynamics linear(int d) {
        return (obs, act, from, rows, out) -> {
            for (int i = from * d; i < (from + rows) * d; i++) {
                out[i] = obs[i] + 0.1 * act[i];
            }
        };
    }

    private static final BatchDynamics LINEAR = linear(1);
    private static final BatchDynamics LINEAR2 = linear(2);
    private static final BatchDynamics LINEAR3 = linear(3);

    /** Reward −‖s' − target‖². */
    private static BatchReward quadraticTo(double[] target) {
        int d = target.length;
        return (obs, act, next, from, rows, out) -> {
            for (int r = from; r < from + rows; r++) {
                double s = 0;
                for (int j = 0; j < d; j++) {
                    double e = next[r * d + j] - target[j];
                    s += e * e;
                }
                out[r] = -s;
            }
        };
    }

    private static MpcConfig.Builder cfg(Method m) {
        return MpcConfig.builder().method(m).horizon(5).candidates(64).iterations(m == Method.RANDOM_SHOOTING ? 1 : 3);
    }

    @ParameterizedTest
    @EnumSource(Method.class)
    void picksAnActionInTheRewardedDirection(Method method) {
        MpcConfig c = cfg(method).actionBounds(1, -1, 1).build();
        for (int seed = 0; seed < 5; seed++) {
            assertThat(new MpcPlanner(c, new Random(seed)).act(LINEAR, quadraticTo(new double[] {1}), new double[] {0.3})[0])
                    .isPositive();
            assertThat(new MpcPlanner(c, new Random(seed)).act(LINEAR, quadraticTo(new double[] {-1}), new double[] {0.3})[0])
                    .isNegative();
        }
    }

    @ParameterizedTest
    @EnumSource(Method.class)
    void actionsStayWithinTheirBounds(Method method) {
        MpcConfig c = cfg(method).horizon(4).candidates(200).elites(20)
                .actionBounds(new double[] {-1, 0}, new double[] {1, 0.5}).build();
        MpcPlanner.Plan plan = new MpcPlanner(c, new Random(1)).plan(LINEAR2, quadraticTo(new double[] {5, 5}), new double[] {0, 0});
        assertThat(plan.actions()).hasDimensions(4, 2);
        for (double[] a : plan.actions()) {
            assertThat(a[0]).isBetween(-1.0, 1.0);
            assertThat(a[1]).isBetween(0.0, 0.5);
        }
        // pushing towards (5, 5) from (0, 0): both actions at their upper bounds are best
        assertThat(plan.firstAction()[0]).isGreaterThan(method == Method.RANDOM_SHOOTING ? 0.0 : 0.5);
        assertThat(plan.firstAction()[1]).isGreaterThan(method == Method.RANDOM_SHOOTING ? 0.1 : 0.25);
    }

    @ParameterizedTest
    @EnumSource(Method.class)
    void closedLoopControlReachesTheTarget(Method method) {
        // 20 steps of s ← s + 0.1 a from 0 towards (0.6, -0.4, 0.2): CEM and MPPI get within 0.05, random
        // shooting (64 uniform sequences in 24 dimensions) within 0.1
        double[] target = {0.6, -0.4, 0.2};
        MpcConfig c = cfg(method).horizon(8).candidates(64).actionBounds(3, -1, 1).build();
        MpcPlanner planner = new MpcPlanner(c, new Random(3));
        double[] s = {0, 0, 0};
        for (int t = 0; t < 20; t++) {
            double[] a = planner.act(LINEAR3, quadraticTo(target), s);
            for (int j = 0; j < 3; j++) {
                s[j] += 0.1 * a[j];
            }
        }
        double err = 0;
        for (int j = 0; j < 3; j++) {
            err = Math.max(err, Math.abs(s[j] - target[j]));
        }
        assertThat(err).as("%s ends at %s", method, java.util.Arrays.toString(s))
                .isLessThan(method == Method.RANDOM_SHOOTING ? 0.1 : 0.05);
    }

    @Test
    void crossEntropyBeatsOrMatchesRandomShooting() {
        double[] target = {0.3, -0.2, 0.1};
        double[] start = {0, 0, 0};
        BatchReward reward = quadraticTo(target);
        double shooting = 0;
        double cem = 0;
        for (int seed = 0; seed < 5; seed++) {
            MpcConfig rs = MpcConfig.builder().method(Method.RANDOM_SHOOTING).horizon(10).candidates(100).elites(10)
                    .actionBounds(3, -1, 1).build();
            MpcConfig ce = MpcConfig.builder().method(Method.CEM).iterations(5).horizon(10).candidates(100).elites(10)
                    .actionBounds(3, -1, 1).build();
            double r = new MpcPlanner(rs, new Random(seed)).plan(LINEAR3, reward, start).predictedReturn();
            double c = new MpcPlanner(ce, new Random(seed)).plan(LINEAR3, reward, start).predictedReturn();
            // same seed, no warm start: CEM's first round is the random-shooting round, and it keeps the best
            assertThat(c).isGreaterThanOrEqualTo(r);
            shooting += r;
            cem += c;
        }
        assertThat(cem).isGreaterThan(shooting);
    }

    @Test
    void warmStartHelpsASmallPopulation() {
        // 8 candidates per call: starting from the previous plan beats starting afresh, closed loop
        double[] target = {0.8, -0.6};
        double[] returns = new double[2];
        for (int warm = 0; warm < 2; warm++) {
            for (int seed = 0; seed < 5; seed++) {
                MpcConfig c = MpcConfig.builder().method(Method.MPPI).horizon(10).candidates(8).warmStart(warm == 1)
                        .actionBounds(2, -1, 1).build();
                MpcPlanner planner = new MpcPlanner(c, new Random(seed));
                double[] s = {0, 0};
                for (int t = 0; t < 30; t++) {
                    double[] a = planner.act(LINEAR2, quadraticTo(target), s);
                    s[0] += 0.1 * a[0];
                    s[1] += 0.1 * a[1];
                    returns[warm] -= (s[0] - target[0]) * (s[0] - target[0]) + (s[1] - target[1]) * (s[1] - target[1]);
                }
            }
        }
        assertThat(returns[1]).isGreaterThan(returns[0]);
    }

    @Test
    void resetForgetsTheWarmStart() {
        MpcConfig c = MpcConfig.builder().method(Method.MPPI).horizon(4).candidates(16).actionBounds(1, -1, 1).build();
        MpcPlanner warmed = new MpcPlanner(c, new Random(5));
        warmed.act(LINEAR, quadraticTo(new double[] {1}), new double[] {0});
        warmed.reset();
        // after reset, the same random state gives what a fresh planner gives
        Random a = new Random(8);
        Random b = new Random(8);
        MpcPlanner fresh = new MpcPlanner(c, b);
        MpcPlanner reused = new MpcPlanner(c, a);
        reused.act(LINEAR, quadraticTo(new double[] {1}), new double[] {0});
        reused.reset();
        a.setSeed(11);
        b.setSeed(11);
        assertThat(reused.act(LINEAR, quadraticTo(new double[] {-1}), new double[] {0.2}))
                .containsExactly(fresh.act(LINEAR, quadraticTo(new double[] {-1}), new double[] {0.2}));
    }

    @ParameterizedTest
    @EnumSource(Method.class)
    void planningTogetherEqualsPlanningAlone(Method method) {
        MpcConfig c = cfg(method).actionBounds(2, -1, 1).build();
        BatchDynamics other = (obs, act, from, rows, out) -> {
            for (int i = from * 2; i < (from + rows) * 2; i++) {
                out[i] = 0.9 * obs[i] - 0.2 * act[i];
            }
        };
        BatchDynamics[] models = {LINEAR2, other, LINEAR2, other, LINEAR2};
        double[][] targets = {{1, 0}, {0, 1}, {-1, 0}, {0.5, 0.5}, {0.2, -0.3}};
        List<MpcPlanner.Request> together = new ArrayList<>();
        List<double[]> alone = new ArrayList<>();
        for (int i = 0; i < models.length; i++) {
            double[] obs = {0.1 * i, -0.05 * i};
            together.add(new MpcPlanner.Request(new MpcPlanner(c, new Random(i)), models[i], quadraticTo(targets[i]), obs));
            MpcPlanner single = new MpcPlanner(c, new Random(i));
            // two calls each: the second one starts from the first one's warm start
            single.act(models[i], quadraticTo(targets[i]), obs);
            alone.add(single.act(models[i], quadraticTo(targets[i]), obs));
        }
        MpcPlanner.planAll(together);
        List<MpcPlanner.Plan> plans = MpcPlanner.planAll(together);
        for (int i = 0; i < models.length; i++) {
            assertThat(plans.get(i).firstAction()).as("agent %d", i).containsExactly(alone.get(i));
        }
    }

    @Test
    void planningOnSeveralThreadsGivesEachAgentTheSamePlan() {
        MpcConfig one = MpcConfig.builder().horizon(6).candidates(16).actionBounds(2, -1, 1).build();
        MpcConfig three = MpcConfig.builder().horizon(6).candidates(16).threads(3).actionBounds(2, -1, 1).build();
        List<MpcPlanner.Request> a = new ArrayList<>();
        List<MpcPlanner.Request> b = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            double[] target = {Math.sin(i), Math.cos(i)};
            a.add(new MpcPlanner.Request(new MpcPlanner(one, new Random(i)), LINEAR2, quadraticTo(target), new double[] {0, 0}));
            b.add(new MpcPlanner.Request(new MpcPlanner(three, new Random(i)), LINEAR2, quadraticTo(target), new double[] {0, 0}));
        }
        List<MpcPlanner.Plan> pa = MpcPlanner.planAll(a);
        List<MpcPlanner.Plan> pb = MpcPlanner.planAll(b);
        for (int i = 0; i < 7; i++) {
            assertThat(pb.get(i).actions()).as("agent %d", i).isDeepEqualTo(pa.get(i).actions());
        }
    }

    @Test
    void agentsSharingAModelAreRolledOutInOneCallPerStep() {
        AtomicInteger calls = new AtomicInteger();
        AtomicInteger widest = new AtomicInteger();
        BatchDynamics counted = (obs, act, from, rows, out) -> {
            calls.incrementAndGet();
            widest.accumulateAndGet(rows, Math::max);
            LINEAR.next(obs, act, from, rows, out);
        };
        MpcConfig c = MpcConfig.builder().method(Method.CEM).horizon(6).candidates(32).iterations(2).elites(4).threads(1)
                .actionBounds(1, -1, 1).build();
        List<MpcPlanner.Request> requests = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            requests.add(new MpcPlanner.Request(new MpcPlanner(c, new Random(i)), counted, quadraticTo(new double[] {i}),
                    new double[] {0}));
        }
        MpcPlanner.planAll(requests);
        assertThat(calls.get()).isEqualTo(6 * 2);
        assertThat(widest.get()).isEqualTo(10 * 32);
    }

    @Test
    void divergingPredictionsNeverWin() {
        // the model returns NaN for positive actions: the plan must push negative even though the reward prefers up
        BatchDynamics nanUp = (obs, act, from, rows, out) -> {
            for (int i = from; i < from + rows; i++) {
                out[i] = act[i] > 0 ? Double.NaN : obs[i] + 0.1 * act[i];
            }
        };
        for (Method m : Method.values()) {
            MpcConfig c = cfg(m).horizon(1).actionBounds(1, -1, 1).build();
            double a = new MpcPlanner(c, new Random(1)).act(nanUp, quadraticTo(new double[] {1}), new double[] {0})[0];
            assertThat(a).as("%s", m).isLessThanOrEqualTo(0.0);
        }
    }

    @Test
    void rejectsBadRequestsWithActionableMessages() {
        MpcConfig c = MpcConfig.builder().horizon(2).candidates(10).elites(2).actionBounds(1, -1, 1).build();
        MpcPlanner planner = new MpcPlanner(c, new Random(1));
        BatchReward zero = (o, a, n, from, rows, out) -> { };
        assertThatThrownBy(() -> planner.act(LINEAR, zero, new double[] {Double.NaN})).hasMessageContaining("obs[0] is NaN");
        assertThatThrownBy(() -> MpcPlanner.planAll(List.of(new MpcPlanner.Request(planner, LINEAR, zero, new double[] {0}),
                new MpcPlanner.Request(planner, LINEAR, zero, new double[] {0}))))
                .hasMessageContaining("each agent needs its own planner");
        MpcPlanner longer = new MpcPlanner(MpcConfig.builder().horizon(3).candidates(10).elites(2).actionBounds(1, -1, 1).build(),
                new Random(1));
        assertThatThrownBy(() -> MpcPlanner.planAll(List.of(new MpcPlanner.Request(planner, LINEAR, zero, new double[] {0}),
                new MpcPlanner.Request(longer, LINEAR, zero, new double[] {0}))))
                .hasMessageContaining("plan them in separate batches");
        assertThatThrownBy(() -> MpcPlanner.planAll(List.of())).hasMessageContaining("at least one request");
    }

    @Test
    void configValidatesWithActionableMessages() {
        MpcConfig d = MpcConfig.builder().actionBounds(2, -1, 1).build();
        assertThat(d.method()).isEqualTo(Method.MPPI);
        assertThat(d.horizon()).isEqualTo(15);
        assertThat(d.candidates()).isEqualTo(64);
        assertThat(d.iterations()).isEqualTo(1);
        assertThat(d.threads()).isEqualTo(2);
        assertThat(d.warmStart()).isTrue();
        assertThat(d.actDim()).isEqualTo(2);
        assertThat(MpcConfig.builder().settings(java.util.Map.of("method", "cem", "iterations", "3"))
                .actionBounds(1, -1, 1).build().method()).isEqualTo(Method.CEM);
        assertThatThrownBy(() -> MpcConfig.builder().settings(java.util.Map.of("method", "ilqr")))
                .hasMessageContaining("use random-shooting, cem or mppi");
        assertThatThrownBy(() -> MpcConfig.builder().build()).hasMessageContaining("call actionBounds(low, high)");
        assertThatThrownBy(() -> MpcConfig.builder().candidates(4).actionBounds(1, -1, 1).build())
                .hasMessageContaining("elites is 8 but must be in [1, candidates = 4]");
        assertThatThrownBy(() -> MpcConfig.builder().actionBounds(new double[] {0, 1}, new double[] {1, 1}).build())
                .hasMessageContaining("dimension 1 are [1.0, 1.0]");
        assertThatThrownBy(() -> MpcConfig.builder().horizon(0).actionBounds(1, -1, 1).build()).hasMessageContaining("horizon is 0");
        assertThatThrownBy(() -> MpcConfig.builder().temperature(0).actionBounds(1, -1, 1).build())
                .hasMessageContaining("temperature is 0.0");
    }

    @Test
    void projectsTheRolloutsOfTheRequestThatAsksAndNoOther() {
        MpcConfig c = cfg(Method.MPPI).actionBounds(1, -1, 1).build();
        BatchReward up = (obs, act, next, from, rows, out) -> {
            for (int r = from; r < from + rows; r++) {
                out[r] = next[r];
            }
        };
        BatchProjection cap = (obs, from, rows) -> {
            for (int i = from; i < from + rows; i++) {
                obs[i] = Math.min(obs[i], 0.35);
            }
        };
        // both share one model, so their rows are rolled out in one call: the cap must reach only the first's
        List<MpcPlanner.Plan> plans = MpcPlanner.planAll(List.of(
                new MpcPlanner.Request(new MpcPlanner(c, new Random(1)), LINEAR, up, new double[] {0.3}, cap),
                new MpcPlanner.Request(new MpcPlanner(c, new Random(1)), LINEAR, up, new double[] {0.3})));
        assertThat(plans.get(0).predictedReturn()).isLessThanOrEqualTo(5 * 0.35 + 1e-12);
        assertThat(plans.get(1).predictedReturn()).isGreaterThan(2.5); // 0.4 + 0.5 + ... + 0.8 = 3.0 at best
    }
}
