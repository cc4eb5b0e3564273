-- One database per subgraph (each subgraph owns its own; none reads another's).
CREATE DATABASE pizza_users;
CREATE DATABASE pizza_menu;
CREATE DATABASE pizza_orders;
CREATE DATABASE pizza_delivery;
CREATE DATABASE pizza_payments;
CREATE DATABASE pizza_reviews;
CREATE DATABASE pizza_geo;
CREATE DATABASE pizza_notifications;
