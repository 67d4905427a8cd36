"""advlab-signs: a procedurally rendered traffic-sign data set.

Every image is drawn from nothing but a seed: a sign of one of CLASSES is
drawn with PIL at the scale it will appear, tilted in 3-D (a perspective
warp), rotated, placed over a cluttered random background, partly occluded,
then lit, blurred and made noisy. The classes differ by shape, colour and
glyph (digits and letters come from a small stroke font defined here, so no
font file is needed), and several pairs differ only by the glyph
(speed limits 20/30/50/80, turn left/right, no parking/no stopping), while
the backgrounds are full of plain shapes in the signs' own colours, so a
classifier must look at the sign itself.

Each image has its own random stream, numpy's PCG64 seeded with
(seed, split, class, index), so an image does not depend on how many others
are drawn or in which order: the same seed gives the same data set, bit for
bit (with the same numpy and Pillow).
"""

import io
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SIZE = 64  # side of a finished image, pixels
SS = 2  # images are composed at SS x SIZE and box-filtered down (anti-aliasing)

CLASSES = [
    "stop",
    "yield",
    "no_entry",
    "speed_limit_20",
    "speed_limit_30",
    "speed_limit_50",
    "speed_limit_80",
    "turn_left",
    "turn_right",
    "keep_right",
    "roundabout",
    "priority_road",
    "pedestrian_crossing",
    "no_parking",
    "no_stopping",
    "general_caution",
]

SPLITS = {"train": 1, "test": 2}

# Sign colours (sRGB); each image jitters and fades them.
RED = (200, 22, 32)
BLUE = (18, 72, 168)
YELLOW = (250, 196, 18)
WHITE = (242, 242, 236)
BLACK = (22, 22, 24)

# ---------------------------------------------------------------------------
# A stroke font: each glyph is a list of polylines in a unit box, x right,
# y down, drawn with round joints and caps.


def _arc(cx, cy, rx, ry, a0, a1, n=None):
    """Points on an ellipse from angle a0 to a1 (degrees, clockwise on screen)."""
    if n is None:
        n = max(4, int(abs(a1 - a0) / 12))
    return [
        (cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
        for a in np.linspace(a0, a1, n + 1)
    ]


GLYPHS = {
    "0": [_arc(0.5, 0.5, 0.5, 0.5, 0, 360)],
    "2": [_arc(0.5, 0.27, 0.5, 0.27, 175, 395) + [(0.0, 1.0), (1.0, 1.0)]],
    "3": [_arc(0.5, 0.26, 0.45, 0.26, 200, 450) + _arc(0.5, 0.75, 0.5, 0.25, 270, 520)],
    "5": [[(0.92, 0.0), (0.12, 0.0), (0.07, 0.47)] + _arc(0.5, 0.68, 0.47, 0.32, 220, 520)],
    "8": [_arc(0.5, 0.25, 0.42, 0.25, 0, 360), _arc(0.5, 0.73, 0.5, 0.27, 0, 360)],
    "S": [_arc(0.5, 0.26, 0.48, 0.25, 335, 90) + _arc(0.5, 0.74, 0.5, 0.25, 270, 515)],
    "T": [[(0.0, 0.0), (1.0, 0.0)], [(0.5, 0.0), (0.5, 1.0)]],
    "O": [_arc(0.5, 0.5, 0.5, 0.5, 0, 360)],
    "P": [[(0.05, 1.0), (0.05, 0.0), (0.55, 0.0)] + _arc(0.55, 0.27, 0.42, 0.27, 270, 450) + [(0.05, 0.54)]],
    "!": [[(0.5, 0.0), (0.5, 0.66)], [(0.5, 0.93), (0.5, 0.94)]],
}


def _strokes(d, strokes, box, width, fill):
    """Draws polylines given in the unit box into box (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = box
    for s in strokes:
        pts = [(x0 + u * (x1 - x0), y0 + v * (y1 - y0)) for u, v in s]
        if len(pts) > 1:
            d.line(pts, fill=fill, width=max(1, int(round(width))), joint="curve")
        r = width / 2
        for px, py in (pts[0], pts[-1]):
            d.ellipse((px - r, py - r, px + r, py + r), fill=fill)


def _text(d, text, cx, cy, h, w, gap, width, fill):
    """Draws text in the stroke font, centred on (cx, cy), glyphs h high and w wide."""
    total = len(text) * w + (len(text) - 1) * gap
    x = cx - total / 2
    for ch in text:
        _strokes(d, GLYPHS[ch], (x, cy - h / 2, x + w, cy + h / 2), width, fill)
        x += w + gap


# ---------------------------------------------------------------------------
# The signs, drawn in a square RGBA canvas whose centre is the sign's centre;
# u() maps sign units ([-1, 1], radius 1) to canvas pixels.


def _jitter(rng, c, amount=18):
    return tuple(int(np.clip(v + rng.integers(-amount, amount + 1), 0, 255)) for v in c)


def _palette(rng):
    """Per-image sign colours: jittered, and sometimes faded by sun and dirt."""
    fade = rng.uniform(0, 0.35) if rng.random() < 0.5 else 0.0
    tint = np.array(_jitter(rng, (200, 200, 195), 30), dtype=float)

    def col(c):
        c = np.array(_jitter(rng, c), dtype=float)
        return tuple(int(round(v)) for v in (1 - fade) * c + fade * tint)

    return {"red": col(RED), "blue": col(BLUE), "yellow": col(YELLOW), "white": col(WHITE), "black": col(BLACK)}


def draw_sign(name, radius, rng):
    """Returns an RGBA image of sign name with the given radius in pixels."""
    n = int(math.ceil(2 * radius)) + 4
    img = Image.new("RGBA", (n, n), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    c = n / 2
    p = _palette(rng)

    def u(x, y):
        return (c + x * radius, c + y * radius)

    def disc(r, fill):
        d.ellipse((c - r * radius, c - r * radius, c + r * radius, c + r * radius), fill=fill)

    def poly(pts, fill):
        d.polygon([u(x, y) for x, y in pts], fill=fill)

    def regular(k, r, phase):
        return [(r * math.cos(math.radians(phase + 360 * i / k)), r * math.sin(math.radians(phase + 360 * i / k))) for i in range(k)]

    def line(pts, w, fill):
        _strokes(d, [[((x + 1) / 2, (y + 1) / 2) for x, y in pts]], (c - radius, c - radius, c + radius, c + radius), w * radius, fill)

    def arrowhead(tip, direction, length, half_width, fill):
        dx, dy = direction
        norm = math.hypot(dx, dy)
        dx, dy = dx / norm, dy / norm
        bx, by = tip[0] - dx * length, tip[1] - dy * length
        poly([tip, (bx - dy * half_width, by + dx * half_width), (bx + dy * half_width, by - dx * half_width)], fill)

    def blue_disc():
        disc(1.0, p["white"])
        disc(0.94, p["blue"])

    if name == "stop":
        poly(regular(8, 1.0, 22.5), p["white"])
        poly(regular(8, 0.91, 22.5), p["red"])
        _text(d, "STOP", c, c, 0.42 * radius, 0.3 * radius, 0.07 * radius, 0.1 * radius, p["white"])
    elif name == "yield":
        tri = [(-1.0, -0.82), (1.0, -0.82), (0.0, 0.95)]
        poly(tri, p["white"])
        poly([(x * 0.88, y * 0.88 - 0.02) for x, y in tri], p["red"])
        poly([(x * 0.5, y * 0.5 - 0.07) for x, y in tri], p["white"])
    elif name == "general_caution":
        tri = [(0.0, -0.95), (1.0, 0.82), (-1.0, 0.82)]
        poly(tri, p["white"])
        poly([(x * 0.88, y * 0.88 + 0.02) for x, y in tri], p["red"])
        poly([(x * 0.58, y * 0.58 + 0.1) for x, y in tri], p["white"])
        _strokes(d, GLYPHS["!"], (c - 0.12 * radius, c - 0.2 * radius, c + 0.12 * radius, c + 0.52 * radius), 0.13 * radius, p["black"])
    elif name == "no_entry":
        disc(1.0, p["white"])
        disc(0.95, p["red"])
        poly([(-0.66, -0.17), (0.66, -0.17), (0.66, 0.17), (-0.66, 0.17)], p["white"])
    elif name.startswith("speed_limit_"):
        disc(1.0, p["red"])
        disc(0.77, p["white"])
        _text(d, name[-2:], c, c, 0.8 * radius, 0.42 * radius, 0.1 * radius, 0.15 * radius, p["black"])
    elif name in ("turn_left", "turn_right"):
        blue_disc()
        s = -1 if name == "turn_left" else 1
        pts = [(-0.17 * s, 0.68), (-0.17 * s, 0.02)] + [(0.13 * s + 0.3 * s * math.cos(math.radians(a)), -0.01 + 0.3 * math.sin(math.radians(a))) for a in np.linspace(180, 270, 8)] + [(0.3 * s, -0.31)]
        line(pts, 0.2, p["white"])
        arrowhead((0.68 * s, -0.31), (s, 0), 0.38, 0.3, p["white"])
    elif name == "keep_right":
        blue_disc()
        line([(-0.42, -0.42), (0.2, 0.2)], 0.2, p["white"])
        arrowhead((0.5, 0.5), (1, 1), 0.42, 0.3, p["white"])
    elif name == "roundabout":
        blue_disc()
        for k in range(3):
            # Traffic goes anticlockwise (on screen): each arrow runs along
            # the circle from a1 down to a0, where its head starts.
            a0 = 120 * k + 60
            a1 = a0 + 72
            pts = [(0.5 * math.cos(math.radians(a)), 0.5 * math.sin(math.radians(a))) for a in np.linspace(a1, a0 - 3, 10)]
            line(pts, 0.16, p["white"])
            t = math.radians(a0)
            base = (0.5 * math.cos(t), 0.5 * math.sin(t))
            ahead = (math.sin(t), -math.cos(t))
            arrowhead((base[0] + 0.3 * ahead[0], base[1] + 0.3 * ahead[1]), ahead, 0.3, 0.22, p["white"])
    elif name == "priority_road":
        poly(regular(4, 1.0, 0), p["black"])
        poly(regular(4, 0.96, 0), p["white"])
        poly(regular(4, 0.7, 0), p["black"])
        poly(regular(4, 0.66, 0), p["yellow"])
    elif name == "pedestrian_crossing":
        d.rounded_rectangle((c - 0.9 * radius, c - 0.9 * radius, c + 0.9 * radius, c + 0.9 * radius), radius=0.12 * radius, fill=p["white"])
        d.rounded_rectangle((c - 0.85 * radius, c - 0.85 * radius, c + 0.85 * radius, c + 0.85 * radius), radius=0.1 * radius, fill=p["blue"])
        poly([(0.0, -0.74), (-0.76, 0.6), (0.76, 0.6)], p["white"])
        for i in range(4):
            x = -0.42 + 0.24 * i
            poly([(x, 0.42), (x + 0.13, 0.42), (x + 0.13, 0.52), (x, 0.52)], p["black"])
        disc_at = u(0.02, -0.3)
        r = 0.08 * radius
        d.ellipse((disc_at[0] - r, disc_at[1] - r, disc_at[0] + r, disc_at[1] + r), fill=p["black"])
        for seg in ([(0.0, -0.2), (-0.04, 0.12)], [(-0.04, 0.12), (-0.2, 0.36)], [(-0.04, 0.12), (0.14, 0.36)],
                    [(0.0, -0.14), (-0.16, 0.04)], [(0.0, -0.14), (0.16, -0.02)]):
            line(seg, 0.08, p["black"])
    elif name in ("no_parking", "no_stopping"):
        disc(1.0, p["white"])
        disc(0.96, p["red"])
        disc(0.76, p["blue"])
        line([(-0.54, -0.54), (0.54, 0.54)], 0.17, p["red"])
        if name == "no_stopping":
            line([(0.54, -0.54), (-0.54, 0.54)], 0.17, p["red"])
    else:
        raise ValueError(f"no sign called {name}")
    return img


# ---------------------------------------------------------------------------
# Backgrounds: gradients, value-noise textures and clutter, some of it in the
# signs' own colours and shapes.

_CLUTTER_COLOURS = [RED, BLUE, YELLOW, WHITE, BLACK, (60, 120, 50), (90, 140, 60), (120, 90, 60),
                    (140, 140, 140), (90, 90, 100), (180, 170, 150), (110, 160, 210), (200, 120, 40)]


def _value_noise(rng, n, cells):
    small = rng.random((cells, cells)).astype(np.float32)
    im = Image.fromarray((small * 255).astype(np.uint8), "L").resize((n, n), Image.BICUBIC)
    return np.asarray(im, dtype=np.float32) / 255.0


def background(rng, n):
    """Returns an n x n RGB background as a PIL image."""
    def colour():  # anything from grey to fully saturated
        c = rng.uniform(0, 255, 3)
        return c.mean() + (c - c.mean()) * rng.uniform(0.3, 1.0)

    c0, c1 = colour(), colour()
    a = rng.uniform(0, 2 * math.pi)
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32) / n
    t = np.clip((xx - 0.5) * math.cos(a) + (yy - 0.5) * math.sin(a) + 0.5, 0, 1)[..., None]
    img = c0 * (1 - t) + c1 * t
    if rng.random() < 0.8:  # texture: foliage, walls, tarmac
        tex = _value_noise(rng, n, int(rng.integers(3, 24)))
        img = img + (tex[..., None] - 0.5) * rng.uniform(20, 140) * rng.uniform(0.6, 1.0, 3)
    if rng.random() < 0.2:  # stripes: fences, façades
        f = rng.uniform(4, 16)
        b = rng.uniform(0, 2 * math.pi)
        s = np.sin(2 * math.pi * f * (xx * math.cos(b) + yy * math.sin(b)))[..., None]
        img = img + s * rng.uniform(10, 50)
    im = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")
    d = ImageDraw.Draw(im)
    for _ in range(int(rng.integers(2, 14))):
        col = _jitter(rng, _CLUTTER_COLOURS[rng.integers(len(_CLUTTER_COLOURS))], 30)
        x, y = rng.uniform(-0.1, 1.1, 2) * n
        w, h = rng.uniform(0.04, 0.45, 2) * n
        kind = rng.integers(5)
        if kind == 0:
            d.rectangle((x, y, x + w, y + h), fill=col)
        elif kind == 1:
            d.ellipse((x, y, x + w, y + w), fill=col)
        elif kind == 2:
            pts = [(x + rng.uniform(-w, w), y + rng.uniform(-w, w)) for _ in range(3)]
            d.polygon(pts, fill=col)
        elif kind == 3:
            d.line((x, y, x + rng.uniform(-1, 1) * n, y + rng.uniform(-1, 1) * n), fill=col, width=int(rng.integers(1, 6)))
        else:  # a ring, like a sign's border seen from behind the clutter
            d.ellipse((x, y, x + w, y + w), outline=col, width=max(1, int(w * 0.15)))
    return im


# ---------------------------------------------------------------------------
# Geometry.


def _perspective_coeffs(dst, src):
    """PIL PERSPECTIVE coefficients mapping output points dst to input points src."""
    a = []
    b = []
    for (x, y), (sx, sy) in zip(dst, src):
        a.append([x, y, 1, 0, 0, 0, -sx * x, -sx * y])
        a.append([0, 0, 0, x, y, 1, -sy * x, -sy * y])
        b += [sx, sy]
    return np.linalg.solve(np.array(a, dtype=np.float64), np.array(b, dtype=np.float64)).tolist()


def _project(rng, half, center, n_sign):
    """Where the corners of the sign canvas land: a 3-D tilt, then an in-plane rotation."""
    yaw = math.radians(rng.uniform(-40, 40))
    pitch = math.radians(rng.uniform(-25, 25))
    roll = math.radians(rng.normal(0, 6))
    f = 3.0 * half  # focal length: a mild, realistic perspective
    out = []
    for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        x, y, z = sx * half, sy * half, 0.0
        x, z = x * math.cos(yaw) + z * math.sin(yaw), -x * math.sin(yaw) + z * math.cos(yaw)
        y, z = y * math.cos(pitch) - z * math.sin(pitch), y * math.sin(pitch) + z * math.cos(pitch)
        x, y = x * f / (f + z), y * f / (f + z)
        x, y = x * math.cos(roll) - y * math.sin(roll), x * math.sin(roll) + y * math.cos(roll)
        out.append((center[0] + x, center[1] + y))
    src = [(0, 0), (n_sign, 0), (n_sign, n_sign), (0, n_sign)]
    return _perspective_coeffs(out, src)


# ---------------------------------------------------------------------------
# Occluders: foliage, branches and poles, stickers and snow.


def _occlude(rng, im, cx, cy, r):
    d = ImageDraw.Draw(im)
    kind = rng.integers(4)
    phi = rng.uniform(0, 2 * math.pi)
    ux, uy = math.cos(phi), math.sin(phi)
    if kind == 0:  # foliage: a cluster of leaves coming in from one side
        green = _jitter(rng, (50, 110, 40), 35)
        pen = rng.uniform(0.1, 0.35) * r  # how deep it reaches into the sign
        rho = rng.uniform(0.3, 0.6) * r
        dist = r + rho - pen
        ox, oy = cx + ux * dist, cy + uy * dist
        for _ in range(int(rng.integers(4, 10))):
            q = rho * rng.uniform(0.3, 0.6)
            ex, ey = ox + rng.uniform(-0.6, 0.6) * rho, oy + rng.uniform(-0.6, 0.6) * rho
            # Keep every leaf out of the sign's inner part, where the glyph is.
            to_c = math.hypot(ex - cx, ey - cy)
            if to_c - q < r - pen:
                s = (r - pen + q) / max(to_c, 1e-6)
                ex, ey = cx + (ex - cx) * s, cy + (ey - cy) * s
            d.ellipse((ex - q, ey - q, ex + q, ey + q), fill=_jitter(rng, green, 25))
    elif kind == 1:  # a branch or pole crossing the sign's rim
        dist = rng.uniform(0.62, 0.95) * r
        px, py = cx + ux * dist, cy + uy * dist
        tx, ty = -uy, ux
        w = rng.uniform(0.06, 0.14) * r
        col = _jitter(rng, (90, 70, 50) if rng.random() < 0.5 else (130, 130, 130), 30)
        d.line((px - tx * 3 * r, py - ty * 3 * r, px + tx * 3 * r, py + ty * 3 * r), fill=col, width=max(1, int(w)))
    elif kind == 2:  # stickers on the sign's rim
        for _ in range(int(rng.integers(1, 4))):
            a = rng.uniform(0, 2 * math.pi)
            dd = rng.uniform(0.62, 0.9) * r
            sx, sy = cx + math.cos(a) * dd, cy + math.sin(a) * dd
            s = rng.uniform(0.07, 0.17) * r
            d.rectangle((sx - s, sy - s * rng.uniform(0.5, 1), sx + s, sy + s * rng.uniform(0.5, 1)), fill=_jitter(rng, _CLUTTER_COLOURS[rng.integers(len(_CLUTTER_COLOURS))], 30))
    else:  # snow or mud across the top or bottom edge
        pen = rng.uniform(0.1, 0.3) * r
        col = _jitter(rng, (235, 235, 240) if rng.random() < 0.5 else (110, 85, 60), 15)
        side = 1 if rng.random() < 0.5 else -1
        y0 = cy + side * (r - pen)
        pts = [(cx - 1.2 * r, y0)]
        for k in range(1, 8):
            pts.append((cx - 1.2 * r + k * 2.4 * r / 8, y0 + side * rng.uniform(-0.08, 0.08) * r))
        pts += [(cx + 1.2 * r, cy + side * 1.3 * r), (cx - 1.2 * r, cy + side * 1.3 * r)]
        d.polygon(pts, fill=col)


# ---------------------------------------------------------------------------


def render(cls, rng):
    """Renders one image of class index cls; returns uint8 [SIZE, SIZE, 3]."""
    n = SIZE * SS
    im = background(rng, n)
    r = 0.5 * n * rng.uniform(0.38, 0.92)  # sign radius
    cx = n / 2 + rng.uniform(-0.1, 0.1) * n
    cy = n / 2 + rng.uniform(-0.1, 0.1) * n
    if rng.random() < 0.25:  # part of a neighbouring sign, behind, cut by the frame
        other = int(rng.integers(len(CLASSES)))
        ro = r * rng.uniform(0.3, 0.55)
        along = rng.uniform(0, n)
        off = -ro * rng.uniform(-0.2, 0.6)
        ox, oy = [(off, along), (n - off, along), (along, off), (along, n - off)][rng.integers(4)]
        sign = draw_sign(CLASSES[other], ro, rng)
        coeffs = _project(rng, sign.size[0] / 2, (ox, oy), sign.size[0])
        im = Image.alpha_composite(im.convert("RGBA"), sign.transform((n, n), Image.PERSPECTIVE, coeffs, resample=Image.BICUBIC)).convert("RGB")
    d = ImageDraw.Draw(im)
    if rng.random() < 0.5:  # the sign's post
        w = rng.uniform(0.06, 0.12) * r
        d.rectangle((cx - w, cy, cx + w, n), fill=_jitter(rng, (120, 120, 125), 30))
    sign = draw_sign(CLASSES[cls], r, rng)
    coeffs = _project(rng, sign.size[0] / 2, (cx, cy), sign.size[0])
    warped = sign.transform((n, n), Image.PERSPECTIVE, coeffs, resample=Image.BICUBIC)
    im = Image.alpha_composite(im.convert("RGBA"), warped).convert("RGB")
    if rng.random() < 0.45:
        _occlude(rng, im, cx, cy, r)
    im = im.resize((SIZE, SIZE), Image.BOX)
    if rng.random() < 0.3:  # seen from afar: captured at a lower resolution, scaled up
        low = int(round(SIZE / rng.uniform(1.3, 2.4)))
        im = im.resize((low, low), Image.BOX).resize((SIZE, SIZE), Image.BILINEAR)
    if rng.random() < 0.5:
        im = im.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2)))
    x = np.asarray(im, dtype=np.float32) / 255.0
    # Lighting: exposure, colour cast, gamma, sometimes a shadow edge or glare.
    x = x ** rng.uniform(0.7, 1.4)
    x = x * rng.uniform(0.35, 1.3) * rng.uniform(0.88, 1.12, 3)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32) / SIZE - 0.5
    if rng.random() < 0.35:
        a = rng.uniform(0, 2 * math.pi)
        ramp = np.clip(((xx * math.cos(a) + yy * math.sin(a)) - rng.uniform(-0.3, 0.3)) * rng.uniform(4, 30), 0, 1)
        x = x * (1 - rng.uniform(0.25, 0.6) * ramp[..., None])
    if rng.random() < 0.15:
        gx, gy = rng.uniform(-0.5, 0.5, 2)
        glare = np.exp(-((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * rng.uniform(0.08, 0.25) ** 2))
        x = x + rng.uniform(0.2, 0.6) * glare[..., None]
    x = x + rng.uniform(-0.06, 0.06)
    if rng.random() < 0.7:
        x = x + rng.normal(0, rng.uniform(0.005, 0.05), x.shape)
    out = np.clip(np.round(x * 255), 0, 255).astype(np.uint8)
    if rng.random() < 0.4:  # a camera's JPEG compression
        buf = io.BytesIO()
        Image.fromarray(out, "RGB").save(buf, "JPEG", quality=int(rng.integers(30, 90)))
        out = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"), dtype=np.uint8)
    return out


def generate(split, per_class, seed, classes=None):
    """Returns (images uint8 [N, SIZE, SIZE, 3], labels uint8 [N]) for a split,
    ordered by class then index."""
    classes = range(len(CLASSES)) if classes is None else classes
    xs, ys = [], []
    for c in classes:
        for i in range(per_class):
            rng = np.random.Generator(np.random.PCG64([seed, SPLITS[split], c, i]))
            xs.append(render(c, rng))
            ys.append(c)
    return np.stack(xs), np.array(ys, dtype=np.uint8)
