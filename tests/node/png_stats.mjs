// png_stats.mjs PNG [RRGGBB...]: what a screenshot shows, for tests that must know a page
// rendered (tests/test_select.c): prints JSON {width, height, nonwhite, counts: {RRGGBB: n}}
// with nonwhite the fraction of pixels that are not (near) white and counts the pixels
// within 24 of each colour on every channel. Decodes 8-bit RGB/RGBA non-interlaced PNG
// (what Chromium writes) with node's own zlib: no packages needed.
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';

const [file, ...colours] = process.argv.slice(2);
if (!file) {
  console.error('usage: node png_stats.mjs PNG [RRGGBB...]');
  process.exit(2);
}
const b = readFileSync(file);
if (b.readUInt32BE(0) !== 0x89504e47) throw new Error(`${file}: not a PNG`);
let pos = 8, width = 0, height = 0, depth = 0, type = 0, interlace = 0;
const idat = [];
while (pos < b.length) {
  const len = b.readUInt32BE(pos), kind = b.toString('latin1', pos + 4, pos + 8);
  const data = b.subarray(pos + 8, pos + 8 + len);
  if (kind === 'IHDR') {
    width = data.readUInt32BE(0); height = data.readUInt32BE(4);
    depth = data[8]; type = data[9]; interlace = data[12];
  } else if (kind === 'IDAT') idat.push(data);
  else if (kind === 'IEND') break;
  pos += 12 + len;
}
if (depth !== 8 || (type !== 2 && type !== 6) || interlace !== 0)
  throw new Error(`${file}: only 8-bit RGB/RGBA non-interlaced PNG (depth ${depth}, type ${type})`);
const bpp = type === 6 ? 4 : 3, stride = width * bpp;
const raw = inflateSync(Buffer.concat(idat));
const img = Buffer.alloc(stride * height);
for (let y = 0; y < height; y++) {
  const f = raw[y * (stride + 1)], src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
  for (let x = 0; x < stride; x++) {
    const a = x >= bpp ? img[y * stride + x - bpp] : 0, up = y ? img[(y - 1) * stride + x] : 0;
    const c = x >= bpp && y ? img[(y - 1) * stride + x - bpp] : 0;
    let v = src[x];
    if (f === 1) v += a;
    else if (f === 2) v += up;
    else if (f === 3) v += (a + up) >> 1;
    else if (f === 4) {
      const p = a + up - c, pa = Math.abs(p - a), pb = Math.abs(p - up), pc = Math.abs(p - c);
      v += pa <= pb && pa <= pc ? a : pb <= pc ? up : c;
    }
    img[y * stride + x] = v & 255;
  }
}
const want = colours.map((h) => [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16)]);
const counts = new Array(want.length).fill(0);
let nonwhite = 0;
for (let i = 0; i < width * height; i++) {
  const r = img[i * bpp], g = img[i * bpp + 1], bl = img[i * bpp + 2];
  if (r < 240 || g < 240 || bl < 240) nonwhite++;
  want.forEach(([R, G, B], k) => {
    if (Math.abs(r - R) <= 24 && Math.abs(g - G) <= 24 && Math.abs(bl - B) <= 24) counts[k]++;
  });
}
console.log(JSON.stringify({ width, height, nonwhite: nonwhite / (width * height),
  counts: Object.fromEntries(colours.map((h, k) => [h, counts[k]])) }));
