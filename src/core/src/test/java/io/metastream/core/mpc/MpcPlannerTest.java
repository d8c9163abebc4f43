package io.metastream.core.mpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class MpcPlannerTest {

    /** s' = s + 0.1 a, for equal observation and action dimensions. */
    private static final BatchDynamics LINEAR = (obs, act) -> obs.add(act.mul(0.1));

    private static BatchReward quadraticTo(double[] target) {
        INDArray t = Nd4j.createFromArray(target).reshape(1, target.length);
        return (obs, act, next) -> {
            INDArray d = next.subRowVector(t);
            return d.muli(d).sum(1).negi();
        };
    }

    @Test
    void picksAnActionInTheRewardedDirection() {
        MpcConfig cfg = MpcConfig.builder().horizon(5).candidates(100).actionBounds(1, -1, 1).build();
        BatchReward preferUp = (obs, act, next) -> next.getColumn(0).dup();
        BatchReward preferDown = (obs, act, next) -> next.getColumn(0).neg().reshape(next.rows(), 1);
        for (int seed = 0; seed < 5; seed++) {
            MpcPlanner planner = new MpcPlanner(cfg, new Random(seed));
            assertThat(planner.act(LINEAR, preferUp, new double[] {0.3})[0]).isPositive();
            assertThat(planner.act(LINEAR, preferDown, new double[] {0.3})[0]).isNegative();
        }
    }

    @Test
    void actionsStayWithinTheirBounds() {
        MpcConfig cfg = MpcConfig.builder().horizon(4).candidates(200).cemIterations(3).elites(20)
                .actionBounds(new double[] {-1, 0}, new double[] {1, 0.5}).build();
        MpcPlanner.Plan plan = new MpcPlanner(cfg, new Random(1)).plan(LINEAR, quadraticTo(new double[] {5, 5}),
                new double[] {0, 0});
        assertThat(plan.actions()).hasDimensions(4, 2);
        for (double[] a : plan.actions()) {
            assertThat(a[0]).isBetween(-1.0, 1.0);
            assertThat(a[1]).isBetween(0.0, 0.5);
        }
        // pushing towards (5, 5) from (0, 0): both actions at their upper bounds are best
        assertThat(plan.firstAction()[0]).isGreaterThan(0.5);
        assertThat(plan.firstAction()[1]).isGreaterThan(0.25);
    }

    @Test
    void crossEntropyBeatsOrMatchesRandomShootingOnAQuadraticTarget() {
        double[] target = {0.3, -0.2, 0.1};
        double[] start = {0, 0, 0};
        BatchReward reward = quadraticTo(target);
        double shooting = 0;
        double cem = 0;
        for (int seed = 0; seed < 5; seed++) {
            MpcConfig base = MpcConfig.builder().horizon(10).candidates(100).elites(10).actionBounds(3, -1, 1).build();
            MpcConfig withCem = MpcConfig.builder().horizon(10).candidates(100).elites(10).cemIterations(4)
                    .actionBounds(3, -1, 1).build();
            double rs = new MpcPlanner(base, new Random(seed)).plan(LINEAR, reward, start).predictedReturn();
            double ce = new MpcPlanner(withCem, new Random(seed)).plan(LINEAR, reward, start).predictedReturn();
            // same seed: CEM's first round is the random-shooting round, and it keeps the best overall
            assertThat(ce).isGreaterThanOrEqualTo(rs);
            shooting += rs;
            cem += ce;
        }
        assertThat(cem).isGreaterThan(shooting);
    }

    @Test
    void isReproducibleForASeed() {
        MpcConfig cfg = MpcConfig.builder().horizon(3).candidates(20).cemIterations(2).elites(4).actionBounds(2, -1, 1).build();
        BatchReward r = quadraticTo(new double[] {1, 1});
        double[] a = new MpcPlanner(cfg, new Random(9)).act(LINEAR, r, new double[] {0, 0});
        double[] b = new MpcPlanner(cfg, new Random(9)).act(LINEAR, r, new double[] {0, 0});
        assertThat(a).containsExactly(b);
    }

    @Test
    void reportsMisbehavingModelsAndRewards() {
        MpcConfig cfg = MpcConfig.builder().horizon(2).candidates(10).elites(2).actionBounds(1, -1, 1).build();
        MpcPlanner planner = new MpcPlanner(cfg, new Random(1));
        BatchReward zero = (o, a, n) -> Nd4j.zeros(o.dataType(), o.rows());
        assertThatThrownBy(() -> planner.act((o, a) -> o.getRow(0, true).dup(), zero, new double[] {0}))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("it must return [n, obsDim] = [10, 1]");
        assertThatThrownBy(() -> planner.act(LINEAR, (o, a, n) -> Nd4j.zeros(o.dataType(), 3), new double[] {0}))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("must return [n] or [n, 1]");
        assertThatThrownBy(() -> planner.act(LINEAR, zero, new double[] {Double.NaN})).hasMessageContaining("obs[0] is NaN");
    }

    @Test
    void configValidatesWithActionableMessages() {
        MpcConfig d = MpcConfig.builder().actionBounds(2, -1, 1).build();
        assertThat(d.horizon()).isEqualTo(10);
        assertThat(d.candidates()).isEqualTo(200);
        assertThat(d.cemIterations()).isZero();
        assertThat(d.elites()).isEqualTo(20);
        assertThat(d.actDim()).isEqualTo(2);
        assertThatThrownBy(() -> MpcConfig.builder().build()).hasMessageContaining("call actionBounds(low, high)");
        assertThatThrownBy(() -> MpcConfig.builder().candidates(10).actionBounds(1, -1, 1).build())
                .hasMessageContaining("elites is 20 but must be in [1, candidates = 10]");
        assertThatThrownBy(() -> MpcConfig.builder().actionBounds(new double[] {0, 1}, new double[] {1, 1}).build())
                .hasMessageContaining("dimension 1 are [1.0, 1.0]");
        assertThatThrownBy(() -> MpcConfig.builder().horizon(0).actionBounds(1, -1, 1).build())
                .hasMessageContaining("horizon is 0");
    }
}
