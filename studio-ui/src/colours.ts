// A colour per agent name, the same everywhere in this page's life: the first ten names seen get
// ten clearly different colours (all dark enough for text on white), later ones a hue from a hash.
const PALETTE = ["#1f5fa8", "#b34700", "#2e7d32", "#b0174a", "#6a3fb5", "#00796b", "#8d6e00", "#5d4037", "#455a64", "#ad1457"];
const assigned = new Map<string, string>();

export function agentColour(name: string): string {
  let colour = assigned.get(name);
  if (colour === undefined) {
    if (assigned.size < PALETTE.length) colour = PALETTE[assigned.size];
    else {
      let h = 0x811c9dc5; // FNV-1a
      for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
      colour = `hsl(${h % 360} 70% ${26 + ((h >>> 12) % 3) * 7}%)`;
    }
    assigned.set(name, colour);
  }
  return colour;
}
