package io.metastream.cli;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Minimal PNG charts drawn with java.awt (headless), so reports need no plotting dependency. */
public final class Plots {
    private static final int W = 800;
    private static final int H = 480;
    private static final int L = 80;
    private static final int R = 30;
    private static final int T = 50;
    private static final int B = 60;
    private static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
        new Color(0xff7f0e), new Color(0x9467bd)};

    private Plots() {}

    /** A line chart; each series maps a name to its (x, y) points. Non-finite points are skipped. */
    public static void lines(Path file, String title, String xLabel, String yLabel, Map<String, List<double[]>> series)
            throws IOException {
        System.setProperty("java.awt.headless", "true");
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = frame(img, title, xLabel, yLabel);
        double minX = Double.POSITIVE_INFINITY, maxX = Double.NEGATIVE_INFINITY;
        double minY = Double.POSITIVE_INFINITY, maxY = Double.NEGATIVE_INFINITY;
        for (List<double[]> pts : series.values()) {
            for (double[] p : pts) {
                if (Double.isFinite(p[0]) && Double.isFinite(p[1])) {
                    minX = Math.min(minX, p[0]);
                    maxX = Math.max(maxX, p[0]);
                    minY = Math.min(minY, p[1]);
                    maxY = Math.max(maxY, p[1]);
                }
            }
        }
        if (minX > maxX) {
            minX = 0;
            maxX = 1;
            minY = 0;
            maxY = 1;
        }
        if (maxX == minX) {
            maxX = minX + 1;
        }
        if (maxY == minY) {
            maxY = minY + 1;
        }
        axes(g, minX, maxX, minY, maxY);
        int i = 0;
        for (Map.Entry<String, List<double[]>> e : series.entrySet()) {
            Color c = PALETTE[i % PALETTE.length];
            g.setColor(c);
            g.setStroke(new BasicStroke(2f));
            int[] prev = null;
            for (double[] p : e.getValue()) {
                if (!Double.isFinite(p[0]) || !Double.isFinite(p[1])) {
                    continue;
                }
                int[] cur = {px(p[0], minX, maxX), py(p[1], minY, maxY)};
                if (prev != null) {
                    g.drawLine(prev[0], prev[1], cur[0], cur[1]);
                }
                g.fillOval(cur[0] - 2, cur[1] - 2, 5, 5);
                prev = cur;
            }
            legend(g, i, e.getKey(), c);
            i++;
        }
        g.dispose();
        ImageIO.write(img, "png", file.toFile());
    }

    /** A bar chart of named values (one group). */
    public static void bars(Path file, String title, String yLabel, LinkedHashMap<String, Double> values) throws IOException {
        System.setProperty("java.awt.headless", "true");
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = frame(img, title, "", yLabel);
        double minY = 0, maxY = 0;
        for (double v : values.values()) {
            if (Double.isFinite(v)) {
                minY = Math.min(minY, v);
                maxY = Math.max(maxY, v);
            }
        }
        if (maxY == minY) {
            maxY = minY + 1;
        }
        axes(g, 0, 1, minY, maxY);
        int n = values.size();
        int slot = (W - L - R) / Math.max(1, n);
        int i = 0;
        int zero = py(0, minY, maxY);
        for (Map.Entry<String, Double> e : values.entrySet()) {
            double v = e.getValue();
            int x = L + i * slot + slot / 5;
            int y = py(Double.isFinite(v) ? v : 0, minY, maxY);
            g.setColor(PALETTE[i % PALETTE.length]);
            g.fillRect(x, Math.min(y, zero), slot * 3 / 5, Math.abs(zero - y));
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            g.drawString(e.getKey(), x, H - B + 18);
            g.drawString(String.format("%.4g", v), x, Math.min(y, zero) - 4);
            i++;
        }
        g.dispose();
        ImageIO.write(img, "png", file.toFile());
    }

    private static Graphics2D frame(BufferedImage img, String title, String xLabel, String yLabel) {
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, W, H);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.drawString(title, L, 28);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.drawString(xLabel, W / 2, H - 15);
        g.rotate(-Math.PI / 2);
        g.drawString(yLabel, -H / 2 - 40, 18);
        g.rotate(Math.PI / 2);
        return g;
    }

    private static void axes(Graphics2D g, double minX, double maxX, double minY, double maxY) {
        g.setColor(Color.BLACK);
        g.drawRect(L, T, W - L - R, H - T - B);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        for (int k = 0; k <= 4; k++) {
            double y = minY + (maxY - minY) * k / 4;
            int yy = py(y, minY, maxY);
            g.setColor(new Color(0xdddddd));
            g.drawLine(L, yy, W - R, yy);
            g.setColor(Color.BLACK);
            g.drawString(String.format("%.3g", y), 30, yy + 4);
            double x = minX + (maxX - minX) * k / 4;
            g.drawString(String.format("%.3g", x), px(x, minX, maxX) - 10, H - B + 32);
        }
    }

    private static void legend(Graphics2D g, int i, String name, Color c) {
        g.setColor(c);
        g.fillRect(W - R - 220, T + 10 + 18 * i, 12, 12);
        g.setColor(Color.BLACK);
        g.drawString(name, W - R - 200, T + 21 + 18 * i);
    }

    private static int px(double x, double minX, double maxX) {
        return L + (int) Math.round((x - minX) / (maxX - minX) * (W - L - R));
    }

    private static int py(double y, double minY, double maxY) {
        return H - B - (int) Math.round((y - minY) / (maxY - minY) * (H - T - B));
    }
}
