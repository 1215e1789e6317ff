// /kejadian/baru: an incident reported without a call (walk-in, radio, social media), on the call panel's form.
import {connect} from "/static/live.js";
import {setupIncidentForm, showIncident} from "/static/incident_form.js";

setupIncidentForm();
connect((m) => { if (m.type === "incident") showIncident(m.incident); });
