// A stable colour per agent name (hue from a string hash), dark enough for text on white.
export function agentColour(name: string): string {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
  return `hsl(${h % 360} 65% 34%)`;
}
