// The printed ticket's page is exactly as long as the ticket: a kiosk's thermal printer feeds
// and cuts the roll at the page's end, so ticket.css's fixed 170 mm page fed blank paper after
// every short ticket. Called before each print by the kiosk and by the print view.

const PX_PER_MM = 96 / 25.4;
const MARGIN_MM = 3; // top and bottom, as ticket.css's @page

export function fitPageToTicket(area) {
  const ticket = area.querySelector(".ticket");
  if (!ticket) return null;
  // Lay the print area out off screen at the roll's width to measure it (it may be hidden).
  const style = area.getAttribute("style");
  area.style.cssText =
    "display:block!important;position:absolute;left:-10000px;top:0;width:80mm;visibility:hidden";
  const lengthMm = Math.ceil(ticket.getBoundingClientRect().height / PX_PER_MM + 2 * MARGIN_MM);
  if (style === null) area.removeAttribute("style");
  else area.setAttribute("style", style);
  let rule = document.getElementById("ticket-page-size");
  if (!rule) {
    rule = document.createElement("style");
    rule.id = "ticket-page-size";
    document.head.append(rule);
  }
  rule.textContent = `@page { size: 80mm ${lengthMm}mm; margin: ${MARGIN_MM}mm 4mm; }`;
  return lengthMm;
}
