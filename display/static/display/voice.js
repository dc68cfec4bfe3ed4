// Call announcements (叫号): a chime, then the call in Chinese, then in English if the hall wants
// it, e.g. "请A012号到3号窗口办理业务,请A013号准备" / "Number A012, please go to counter 3.".
//
// Announcements queue and never overlap. Browsers refuse sound before a user gesture, so until
// someone taps the "Tap to enable sound" control (or Chromium runs with
// --autoplay-policy=no-user-gesture-required) calls are only written down, not spoken.
// window.hallqVoice.log holds every announcement text, spoken or not, for browser tests, and
// window.hallqVoice.announcements the same grouped by announcement. The lobby also says system
// faults' apologies and "service restored" through say() (lobby.js).

import { fill } from "./live.js";

const CHIME = [
  [659.25, 0.0], // E5
  [523.25, 0.38], // C5: "ding-dong"
];
const CHIME_SECONDS = 0.85;

export function createVoice(labels, button) {
  const voice = { log: [], announcements: [], queue: [], enabled: false, speaking: false };
  window.hallqVoice = voice;
  let audio = null;

  function unlock() {
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    audio.resume();
    if (window.speechSynthesis) speechSynthesis.speak(new SpeechSynthesisUtterance(""));
    enable();
  }

  function enable() {
    voice.enabled = true;
    if (button) button.hidden = true;
  }

  // With the kiosk's autoplay flag the context starts running: no tap needed.
  try {
    audio = new (window.AudioContext || window.webkitAudioContext)();
    if (audio.state === "running") enable();
  } catch {
    audio = null;
  }
  if (button && !voice.enabled) {
    button.hidden = false;
    button.addEventListener("click", unlock);
  }

  // A ticket.called or ticket.recalled frame, and whether the hall announces in English too.
  function announce(frame, english) {
    const number = frame.ticket ? frame.ticket.number : frame.call.number;
    const counter = frame.counter ? frame.counter.number : frame.call.counter;
    const parts = [fill(labels.voice_call.zh, { number, counter })];
    if (frame.greeted) parts.push(fill(labels.voice_ready.zh, { number: frame.greeted.number }));
    const lines = [{ text: parts.join(","), lang: "zh-CN" }];
    if (english) {
      lines.push({ text: fill(labels.voice_call.en, { number, counter }), lang: "en-US" });
    }
    say(lines);
  }

  // Anything else said aloud after the chime, e.g. a system fault's apology:
  // [{text, lang: "zh-CN" | "en-US"}, ...], in order, queued behind any call being spoken.
  function say(lines) {
    voice.announcements.push(lines.map((line) => line.text)); // one entry per announcement
    voice.log.push(...lines.map((line) => line.text));
    if (!voice.enabled) return;
    voice.queue.push(lines);
    pump();
  }

  async function pump() {
    if (voice.speaking) return;
    voice.speaking = true;
    while (voice.queue.length) {
      const lines = voice.queue.shift();
      await chime();
      for (const line of lines) await speak(line);
    }
    voice.speaking = false;
  }

  function chime() {
    if (!audio) return Promise.resolve();
    const start = audio.currentTime + 0.05;
    for (const [frequency, offset] of CHIME) {
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.type = "sine";
      tone.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, start + offset);
      gain.gain.exponentialRampToValueAtTime(0.4, start + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.45);
      tone.connect(gain).connect(audio.destination);
      tone.start(start + offset);
      tone.stop(start + offset + 0.5);
    }
    return wait(CHIME_SECONDS * 1000);
  }

  function speak({ text, lang }) {
    if (!window.speechSynthesis) return Promise.resolve();
    return new Promise((resolve) => {
      const utterance = new SpeechSynthesisUtterance(text);
      utterance.lang = lang;
      utterance.rate = 0.9;
      const prefix = lang.slice(0, 2);
      const voices = speechSynthesis.getVoices();
      const match = voices.find((v) => v.lang.replace("_", "-").startsWith(prefix));
      if (match) utterance.voice = match;
      utterance.onend = utterance.onerror = resolve;
      speechSynthesis.speak(utterance);
      // Some engines never fire onend (no voice installed): do not stall the queue. The
      // speech engine queues utterances itself, so a late one still does not overlap.
      wait(3000 + text.length * 350).then(resolve);
    }).then(() => untilQuiet());
  }

  async function untilQuiet() {
    for (let i = 0; i < 100 && speechSynthesis.speaking; i++) await wait(100);
  }

  voice.announce = announce;
  voice.say = say;
  return voice;
}

function wait(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
